/**
 * Provider-safe names for tools. OpenAI and Anthropic accept `^[a-zA-Z0-9_-]{1,64}$`, while plan tools
 * are named like `threatintel.ip`; each tool gets a distinct safe name and is looked up by it.
 */
export function safeToolNames(names: readonly string[]): Map<string, string> {
  const bySafe = new Map<string, string>();
  for (const name of names) {
    const base = name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64) || "tool";
    let safe = base;
    for (let n = 2; bySafe.has(safe); n++) safe = `${base.slice(0, 60)}_${n}`;
    bySafe.set(safe, name);
  }
  return bySafe;
}
