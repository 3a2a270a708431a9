; C++: C's definitions plus classes, namespaces and methods; calls through members and scopes.
(function_definition declarator: (function_declarator declarator: (identifier) @name.definition.function))
(function_definition
  declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name.definition.function)))
(function_definition
  declarator: (function_declarator declarator: (qualified_identifier name: (identifier) @name.definition.method)))
(function_definition declarator: (function_declarator declarator: (field_identifier) @name.definition.method))
(field_declaration declarator: (function_declarator declarator: (field_identifier) @name.definition.method))
(declaration declarator: (function_declarator declarator: (identifier) @name.definition.function))
(class_specifier name: (type_identifier) @name.definition.class body: (_))
(struct_specifier name: (type_identifier) @name.definition.struct body: (_))
(union_specifier name: (type_identifier) @name.definition.union body: (_))
(enum_specifier name: (type_identifier) @name.definition.enum body: (_))
(type_definition declarator: (type_identifier) @name.definition.type)
(alias_declaration name: (type_identifier) @name.definition.type)
(namespace_definition name: (namespace_identifier) @name.definition.module)
(preproc_def name: (identifier) @name.definition.macro)
(preproc_function_def name: (identifier) @name.definition.macro)

(call_expression function: (identifier) @name.reference.call)
(call_expression function: (field_expression field: (field_identifier) @name.reference.call))
(call_expression function: (qualified_identifier name: (identifier) @name.reference.call))
(type_identifier) @name.reference.type
