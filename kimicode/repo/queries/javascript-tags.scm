; JavaScript (and JSX): functions, classes, methods, top-level bindings; calls and constructors.
(function_declaration name: (identifier) @name.definition.function)
(generator_function_declaration name: (identifier) @name.definition.function)
(class_declaration name: (identifier) @name.definition.class)
(method_definition name: (property_identifier) @name.definition.method)
(variable_declarator
  name: (identifier) @name.definition.function
  value: [(arrow_function) (function_expression) (class)])
(program (lexical_declaration (variable_declarator name: (identifier) @name.definition.constant)))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name.definition.constant))))
(assignment_expression
  left: (member_expression property: (property_identifier) @name.definition.function)
  right: [(arrow_function) (function_expression)])
(pair key: (property_identifier) @name.definition.function value: [(arrow_function) (function_expression)])

(call_expression function: (identifier) @name.reference.call)
(call_expression function: (member_expression property: (property_identifier) @name.reference.call))
(new_expression constructor: (identifier) @name.reference.class)
(class_heritage (identifier) @name.reference.class)
(jsx_opening_element name: (identifier) @name.reference.class)
(jsx_self_closing_element name: (identifier) @name.reference.class)
(import_specifier name: (identifier) @name.reference.import)
