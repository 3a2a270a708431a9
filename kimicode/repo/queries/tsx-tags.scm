; TSX: the TypeScript tags (typescript-tags.scm, loaded first) plus JSX components used as elements.
(jsx_opening_element name: (identifier) @name.reference.class)
(jsx_self_closing_element name: (identifier) @name.reference.class)
