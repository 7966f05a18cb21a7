import type { LanguageExtractor } from "./types.js";

export const python: LanguageExtractor = {
  id: "python",
  extensions: [".py", ".pyi"],
  grammar: "tree-sitter-python.wasm",
  symbols: `
(function_definition name: (identifier) @name) @definition.function
(class_definition name: (identifier) @name) @definition.class
(module (expression_statement (assignment left: (identifier) @name) @definition.variable))
(class_definition body: (block (expression_statement (assignment left: (identifier) @name) @definition.variable)))
`,
  references: `
(identifier) @reference
`,
};
