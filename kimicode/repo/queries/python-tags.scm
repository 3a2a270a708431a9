; Python: classes, functions and module-level names; calls, attributes, bases, imports.
(class_definition name: (identifier) @name.definition.class)
(function_definition name: (identifier) @name.definition.function)
(module (expression_statement (assignment left: (identifier) @name.definition.constant)))

(call function: (identifier) @name.reference.call)
(attribute attribute: (identifier) @name.reference.attribute)
(class_definition superclasses: (argument_list (identifier) @name.reference.class))
(import_from_statement name: (dotted_name (identifier) @name.reference.import))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @name.reference.import)))
(type (identifier) @name.reference.type)
(decorator (identifier) @name.reference.call)
