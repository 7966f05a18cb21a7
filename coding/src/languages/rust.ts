import type { LanguageExtractor } from "./types.js";

export const rust: LanguageExtractor = {
  id: "rust",
  extensions: [".rs"],
  grammar: "tree-sitter-rust.wasm",
  symbols: `
(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(struct_item name: (type_identifier) @name) @definition.class
(enum_item name: (type_identifier) @name) @definition.type
(union_item name: (type_identifier) @name) @definition.type
(type_item name: (type_identifier) @name) @definition.type
(trait_item name: (type_identifier) @name) @definition.interface
(field_declaration name: (field_identifier) @name) @definition.variable
(const_item name: (identifier) @name) @definition.variable
(static_item name: (identifier) @name) @definition.variable
`,
  references: `
(identifier) @reference
(type_identifier) @reference
(field_identifier) @reference
`,
  scopeName(node) {
    if (node.type !== "impl_item") return undefined;
    const type = node.childForFieldName("type");
    if (!type) return undefined;
    return type.type === "type_identifier" ? type.text : type.descendantsOfType("type_identifier")[0]?.text;
  },
};
