import type { Node } from "web-tree-sitter";

export const SYMBOL_KINDS = ["function", "class", "method", "interface", "type", "variable"] as const;
export type SymbolKind = (typeof SYMBOL_KINDS)[number];

/**
 * What the indexer needs to know about one language. The symbol query captures each definition as
 * `@definition.<kind>` (kind one of SYMBOL_KINDS) and its name as `@name`; the reference query captures
 * identifiers used by name as `@reference`. Containers come from nesting: the nearest enclosing
 * definition, or a node `scopeName` names (a Rust `impl` block), or `ownContainer` (a Go receiver).
 * A `function` whose container is a class, interface or named scope is reported as a `method`.
 */
export interface LanguageExtractor {
  /** Short id, e.g. `typescript`. */
  id: string;
  /** File extensions with the dot, lower case. */
  extensions: readonly string[];
  /** File name of the grammar in `@vscode/tree-sitter-wasm/wasm`. */
  grammar: string;
  symbols: string;
  references: string;
  /** Names the container a non-definition ancestor opens (e.g. `impl Foo` → `Foo`). */
  scopeName?(node: Node): string | undefined;
  /** The container of a definition that is not nested in it (e.g. a Go method's receiver type). */
  ownContainer?(definition: Node): string | undefined;
}
