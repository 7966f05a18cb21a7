import type { LanguageExtractor } from "./types.js";

export const java: LanguageExtractor = {
  id: "java",
  extensions: [".java"],
  grammar: "tree-sitter-java.wasm",
  symbols: `
(class_declaration name: (identifier) @name) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(enum_declaration name: (identifier) @name) @definition.type
(interface_declaration name: (identifier) @name) @definition.interface
(method_declaration name: (identifier) @name) @definition.method
(constructor_declaration name: (identifier) @name) @definition.method
(field_declaration declarator: (variable_declarator name: (identifier) @name) @definition.variable)
(constant_declaration declarator: (variable_declarator name: (identifier) @name) @definition.variable)
`,
  references: `
(identifier) @reference
(type_identifier) @reference
`,
};
