; CSS: class and id selectors, keyframes and custom properties; var() uses.
(class_selector (class_name) @name.definition.class)
(id_selector (id_name) @name.definition.id)
(keyframes_statement (keyframes_name) @name.definition.keyframes)
((declaration (property_name) @name.definition.variable)
  (#match? @name.definition.variable "^--"))
((call_expression
  (function_name) @_fn
  (arguments (plain_value) @name.reference.variable))
  (#eq? @_fn "var"))
