import type { LanguageExtractor } from "./types.js";

export const javascript: LanguageExtractor = {
  id: "javascript",
  extensions: [".js", ".mjs", ".cjs", ".jsx"],
  grammar: "tree-sitter-javascript.wasm",
  symbols: `
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(class_declaration name: (_) @name) @definition.class
(method_definition name: (_) @name) @definition.method
(field_definition property: (_) @name) @definition.variable
(program (lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function)))
(program (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable)))
(program (variable_declaration (variable_declarator name: (identifier) @name) @definition.variable))
`,
  references: `
(identifier) @reference
(property_identifier) @reference
`,
};
