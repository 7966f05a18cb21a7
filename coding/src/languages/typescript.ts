import type { LanguageExtractor } from "./types.js";

/** Shared by TypeScript and TSX (the same node types; TSX adds JSX). */
export const typescriptSymbols = `
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(function_signature name: (_) @name) @definition.function
(class_declaration name: (_) @name) @definition.class
(abstract_class_declaration name: (_) @name) @definition.class
(method_definition name: (_) @name) @definition.method
(method_signature name: (_) @name) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(interface_declaration name: (_) @name) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name) @definition.type
(public_field_definition name: (_) @name) @definition.variable
(property_signature name: (_) @name) @definition.variable
(program (lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function)))
(program (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable)))
(program (variable_declaration (variable_declarator name: (identifier) @name) @definition.variable))
`;

export const typescriptReferences = `
(identifier) @reference
(type_identifier) @reference
(property_identifier) @reference
`;

export const typescript: LanguageExtractor = {
  id: "typescript",
  extensions: [".ts", ".mts", ".cts"],
  grammar: "tree-sitter-typescript.wasm",
  symbols: typescriptSymbols,
  references: typescriptReferences,
};

export const tsx: LanguageExtractor = {
  id: "tsx",
  extensions: [".tsx"],
  grammar: "tree-sitter-tsx.wasm",
  symbols: typescriptSymbols,
  references: typescriptReferences,
};
