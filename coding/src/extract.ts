import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Language, type Node, Parser, Query } from "web-tree-sitter";
import type { LanguageExtractor, SymbolKind } from "./languages/types.js";
import { SYMBOL_KINDS } from "./languages/types.js";

/** 1-based lines, 0-based columns (as editors show them: line 1, column 0 is the first character). */
export interface CodeRange {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

export interface CodeSymbol {
  name: string;
  kind: SymbolKind;
  /** Name of the enclosing class, interface, type or function (a Go receiver, a Rust impl type). */
  container?: string;
  range: CodeRange;
}

export interface CodeReference {
  name: string;
  line: number;
  column: number;
}

export interface Extraction {
  symbols: CodeSymbol[];
  references: CodeReference[];
}

interface Compiled {
  parser: Parser;
  symbols: Query;
  references: Query;
}

const require = createRequire(import.meta.url);
let initialised: Promise<void> | undefined;
const compiled = new Map<string, Promise<Compiled>>();

/** The directory holding the grammar .wasm files (from the `@vscode/tree-sitter-wasm` package). */
export function grammarDirectory(): string {
  return path.join(path.dirname(require.resolve("@vscode/tree-sitter-wasm/package.json")), "wasm");
}

function compile(language: LanguageExtractor): Promise<Compiled> {
  let entry = compiled.get(language.id);
  if (!entry) {
    entry = (async () => {
      initialised ??= Parser.init();
      await initialised;
      const wasm = await readFile(path.join(grammarDirectory(), language.grammar));
      const grammar = await Language.load(new Uint8Array(wasm));
      const parser = new Parser();
      parser.setLanguage(grammar);
      const build = (source: string, which: string) => {
        try {
          return new Query(grammar, source);
        } catch (error) {
          throw new Error(
            `the ${which} query of language ${language.id} does not compile: ${(error as Error).message}`,
          );
        }
      };
      return {
        parser,
        symbols: build(language.symbols, "symbol"),
        references: build(language.references, "reference"),
      };
    })();
    entry.catch(() => compiled.delete(language.id));
    compiled.set(language.id, entry);
  }
  return entry;
}

function rangeOf(node: Node): CodeRange {
  return {
    startLine: node.startPosition.row + 1,
    startColumn: node.startPosition.column,
    endLine: node.endPosition.row + 1,
    endColumn: node.endPosition.column,
  };
}

interface Definition {
  node: Node;
  nameNode: Node;
  kind: SymbolKind;
  pattern: number;
}

const CLASS_LIKE: ReadonlySet<string> = new Set(["class", "interface", "type", "scope"]);

/** Symbols and references of one file's text. Symbols come in source order. */
export async function extract(language: LanguageExtractor, text: string): Promise<Extraction> {
  const { parser, symbols, references } = await compile(language);
  const tree = parser.parse(text);
  if (!tree) throw new Error(`tree-sitter could not parse the ${language.id} text`);
  try {
    // One definition per (definition node, name node): when patterns overlap (a `const f = () => …` is
    // both a function and a variable) the pattern written first wins.
    const definitions = new Map<string, Definition>();
    for (const match of symbols.matches(tree.rootNode)) {
      const definition = match.captures.find((c) => c.name.startsWith("definition."));
      const name = match.captures.find((c) => c.name === "name");
      if (!definition || !name) continue;
      const kind = definition.name.slice("definition.".length) as SymbolKind;
      if (!SYMBOL_KINDS.includes(kind))
        throw new Error(`language ${language.id}: unknown capture @${definition.name}`);
      const key = `${definition.node.id}:${name.node.id}`;
      const seen = definitions.get(key);
      if (!seen || match.patternIndex < seen.pattern)
        definitions.set(key, {
          node: definition.node,
          nameNode: name.node,
          kind,
          pattern: match.patternIndex,
        });
    }
    const byNode = new Map<number, Definition>();
    for (const definition of definitions.values())
      if (!byNode.has(definition.node.id)) byNode.set(definition.node.id, definition);

    const containerOf = (definition: Definition): { name: string; kind: string } | undefined => {
      const own = language.ownContainer?.(definition.node);
      if (own) return { name: own, kind: "scope" };
      for (let node = definition.node.parent; node; node = node.parent) {
        const enclosing = byNode.get(node.id);
        if (enclosing) return { name: enclosing.nameNode.text, kind: kindOf(enclosing) };
        const scope = language.scopeName?.(node);
        if (scope) return { name: scope, kind: "scope" };
      }
      return undefined;
    };
    const kindOf = (definition: Definition): SymbolKind => {
      if (definition.kind !== "function") return definition.kind;
      const container = containerOf(definition);
      return container && CLASS_LIKE.has(container.kind) ? "method" : "function";
    };

    const out: CodeSymbol[] = [];
    const nameNodes = new Set<number>();
    for (const definition of definitions.values()) {
      nameNodes.add(definition.nameNode.id);
      const container = containerOf(definition);
      out.push({
        name: definition.nameNode.text,
        kind: kindOf(definition),
        ...(container ? { container: container.name } : {}),
        range: rangeOf(definition.node),
      });
    }
    out.sort((a, b) => a.range.startLine - b.range.startLine || a.range.startColumn - b.range.startColumn);

    const refs: CodeReference[] = [];
    const seenRefs = new Set<number>();
    for (const capture of references.captures(tree.rootNode)) {
      const node = capture.node;
      if (nameNodes.has(node.id) || seenRefs.has(node.id)) continue;
      seenRefs.add(node.id);
      refs.push({ name: node.text, line: node.startPosition.row + 1, column: node.startPosition.column });
    }
    refs.sort((a, b) => a.line - b.line || a.column - b.column);
    return { symbols: out, references: refs };
  } finally {
    tree.delete();
  }
}
