import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
} from "yaml";
import type { DocPath } from "./structure.js";

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** Maps document paths (["steps", 3, "with", "ip"]) onto positions in the YAML source. */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Position of the node at `path`: its value, or its key when `key` is set. When the path leaves the
   * document (a missing key), the deepest node that exists is used.
   */
  locate(path: DocPath, options: { key?: boolean } = {}): SourcePosition {
    let node: Node | null | undefined = this.resolve(this.doc.contents);
    let position = this.start(node) ?? { line: 1, column: 1 };
    for (const [i, segment] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = [...node.items].reverse().find((p) => keyText(p.key) === String(segment));
        if (!pair) break;
        const keyPosition = isNode(pair.key) ? this.start(pair.key) : undefined;
        if (last && options.key && keyPosition) return keyPosition;
        node = this.resolve(isNode(pair.value) ? pair.value : null);
        // `key:` with nothing after it has no value node worth pointing at: use the key.
        position = this.start(node) ?? keyPosition ?? position;
        if (!node) break;
      } else if (isSeq(node) && typeof segment === "number") {
        const item = node.items[segment];
        if (!isNode(item)) break;
        node = this.resolve(item);
        position = this.start(node) ?? position;
      } else {
        break;
      }
    }
    return position;
  }

  /** Line and column of a character offset. */
  at(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  private resolve(node: unknown): Node | null {
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      return target ?? null;
    }
    return isNode(node) ? node : null;
  }

  private start(node: Node | null | undefined): SourcePosition | undefined {
    if (!node?.range) return undefined;
    // An empty value (`key:`) is a null scalar whose range is where the next token starts; ignore it.
    if (isScalar(node) && node.value === null && node.range[0] === node.range[1]) return undefined;
    return this.at(node.range[0]);
  }
}

export function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  if (isPair(key)) return undefined;
  return typeof key === "string" ? key : undefined;
}
