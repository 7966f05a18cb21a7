import type { Tool, ToolCatalog } from "./types.js";

const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

/**
 * The tools a deployment offers, by name. Plans name them in `tool:` and agents in `tools:`, where a
 * glob is an exact name, `prefix.*` (every tool under that dotted prefix) or `*` (every tool).
 */
export class ToolRegistry implements ToolCatalog {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: Iterable<Tool> = []) {
    for (const tool of tools) this.register(tool);
  }

  register<I, O>(tool: Tool<I, O>): this {
    if (typeof tool?.name !== "string" || !TOOL_NAME.test(tool.name)) {
      throw new Error(
        `invalid tool name ${JSON.stringify(tool?.name)}: use dot-separated words of letters, digits, _ or -, e.g. "threatintel.ip"`,
      );
    }
    if (this.tools.has(tool.name)) throw new Error(`tool "${tool.name}" is already registered`);
    // A schema behind a getter (the built-in tools build theirs on first use, see first-use.ts) is not
    // built here: that would build every tool's schemas at registration, on every cold start.
    const lazyInput = typeof Object.getOwnPropertyDescriptor(tool, "input")?.get === "function";
    if (typeof tool.run !== "function" || (!lazyInput && typeof tool.input?.safeParse !== "function")) {
      throw new Error(`tool "${tool.name}" needs a zod \`input\` schema and a \`run(input, ctx)\` function`);
    }
    this.tools.set(tool.name, tool as Tool);
    return this;
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  /** Registered names, sorted (the plan checks use them for "did you mean" hints and globs). */
  names(): string[] {
    return [...this.tools.keys()].sort();
  }

  /** Registered tools, sorted by name. */
  list(): Tool[] {
    return this.names().map((name) => this.tools.get(name)!);
  }

  /** Tools a glob names, sorted by name: exact name, `prefix.*` or `*`. Throws for any other use of `*`. */
  match(glob: string): Tool[] {
    if (glob === "*") return this.list();
    if (glob.endsWith(".*") && !glob.slice(0, -2).includes("*")) {
      const prefix = glob.slice(0, -1);
      return this.list().filter((tool) => tool.name.startsWith(prefix));
    }
    if (glob.includes("*")) {
      throw new Error(`invalid tool glob "${glob}": use an exact name, "prefix.*" or "*"`);
    }
    const tool = this.tools.get(glob);
    return tool ? [tool] : [];
  }
}

/** Whether a service value can look tools up by name (a ToolRegistry or anything shaped like one). */
export function isToolSource(value: unknown): value is { get(name: string): Tool | undefined } {
  return (
    typeof value === "object" && value !== null && typeof (value as { get?: unknown }).get === "function"
  );
}
