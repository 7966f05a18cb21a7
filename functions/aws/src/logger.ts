import { withMappedStacks } from "@aat/functions-serverless/stack-map";

/**
 * JSON lines on stdout (CloudWatch Logs keeps one event per line), with the invocation's request id. An
 * Error field is written as `{ name, message, stack }` and stacks are mapped to the TypeScript sources
 * when logged (functions/serverless/src/stack-map.ts).
 */
export interface LambdaLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  /** Fields added to every line from now on (the current invocation's request id). */
  bind(fields: Record<string, unknown>): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
type Level = keyof typeof LEVELS;

export function createLambdaLogger(
  level: string = "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): LambdaLogger {
  const threshold = LEVELS[level as Level] ?? LEVELS.info;
  let bound: Record<string, unknown> = {};
  const log = (at: Level) => (fields: Record<string, unknown>, message: string) => {
    if (LEVELS[at] < threshold) return;
    write(
      JSON.stringify({
        level: at,
        time: new Date().toISOString(),
        ...bound,
        ...withMappedStacks(fields),
        msg: message,
      }),
    );
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    bind(fields) {
      bound = { ...fields };
    },
  };
}
