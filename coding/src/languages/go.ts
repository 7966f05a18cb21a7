import type { LanguageExtractor } from "./types.js";

export const go: LanguageExtractor = {
  id: "go",
  extensions: [".go"],
  grammar: "tree-sitter-go.wasm",
  symbols: `
(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.class
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec name: (type_identifier) @name) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
(method_elem name: (field_identifier) @name) @definition.method
(field_declaration name: (field_identifier) @name) @definition.variable
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.variable))
(source_file (const_declaration (const_spec name: (identifier) @name) @definition.variable))
`,
  references: `
(identifier) @reference
(type_identifier) @reference
(field_identifier) @reference
`,
  ownContainer(definition) {
    if (definition.type !== "method_declaration") return undefined;
    const receiver = definition.childForFieldName("receiver");
    return receiver?.descendantsOfType("type_identifier")[0]?.text;
  },
};
