import type { ChatContextRegistry } from "./context.js";

/** What the offline chat can do without understanding text: the two commands it documents. */
export type OfflineCommand =
  | { kind: "run"; planId: string; input?: Record<string, unknown> }
  | { kind: "status"; runId: string; text: string };

const RUN = /^\s*run\s+([a-z0-9][a-z0-9._-]*)\s*([\s\S]*)$/i;
const STATUS = /^\s*status\s+(\S+)\s*$/i;

/**
 * Reads `run <plan id> {json}` and `status <run id>` from a message, exactly and nothing else: the
 * offline model recognises commands, it does not guess at meaning. A `run` whose input is not a JSON
 * object is not a command (the reply then explains the form).
 */
export async function offlineCommand(
  message: string,
  contexts: ChatContextRegistry,
): Promise<OfflineCommand | undefined> {
  const run = RUN.exec(message);
  if (run) {
    const rest = run[2]!.trim();
    if (rest === "") return { kind: "run", planId: run[1]!.toLowerCase() };
    try {
      const input: unknown = JSON.parse(rest);
      if (input !== null && typeof input === "object" && !Array.isArray(input)) {
        return { kind: "run", planId: run[1]!.toLowerCase(), input: input as Record<string, unknown> };
      }
    } catch {
      // not a command
    }
    return undefined;
  }
  const status = STATUS.exec(message);
  if (status) {
    const runId = status[1]!;
    const text = await contexts.render([{ kind: "run", id: runId }]);
    return { kind: "status", runId, text };
  }
  return undefined;
}
