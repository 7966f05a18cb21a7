import type { Secrets } from "../../src/secrets/secrets.js";
import type { ToolCallContext, ToolLogger } from "../../src/tools/types.js";

export interface LogLine {
  level: string;
  fields: object;
  message?: string;
}

/** A logger that keeps every line, so tests can assert what tools log (and what they never log). */
export function recordingLogger(
  lines: LogLine[] = [],
  bindings: object = {},
): ToolLogger & { lines: LogLine[] } {
  const at =
    (level: string) =>
    (fields: object, message?: string): void => {
      lines.push({
        level,
        fields: { ...bindings, ...fields },
        ...(message !== undefined ? { message } : {}),
      });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

/** Secrets from a plain map; `describe` says where a missing one would be configured. */
export function mapSecrets(values: Record<string, string>): Secrets {
  return {
    get: async (name) => values[name],
    describe: (name) => `test secret ${name}`,
  };
}

export function callContext(overrides: Partial<ToolCallContext> = {}): ToolCallContext {
  return {
    runId: "run-1",
    stepKey: "step",
    attempt: 1,
    idempotencyKey: "run-1/step/1",
    signal: new AbortController().signal,
    ...overrides,
  };
}
