; HTML: element ids are definitions; class attribute values refer to stylesheet classes.
(attribute
  (attribute_name) @_attr
  (quoted_attribute_value (attribute_value) @name.definition.id)
  (#eq? @_attr "id"))
(attribute
  (attribute_name) @_attr
  (quoted_attribute_value (attribute_value) @name.reference.class)
  (#eq? @_attr "class"))
