; Go: functions, methods, types, package-level consts and vars; calls and type uses.
(function_declaration name: (identifier) @name.definition.function)
(method_declaration name: (field_identifier) @name.definition.method)
(type_spec name: (type_identifier) @name.definition.type)
(source_file (const_declaration (const_spec name: (identifier) @name.definition.constant)))
(source_file (var_declaration (var_spec name: (identifier) @name.definition.variable)))

(call_expression function: (identifier) @name.reference.call)
(call_expression function: (selector_expression field: (field_identifier) @name.reference.call))
(type_identifier) @name.reference.type
