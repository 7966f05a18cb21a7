import type { CompositionLogger } from "./alerts.js";
import { withMappedStacks } from "./stack-map.js";

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
const SEVERITY = { debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR" } as const;
type Level = keyof typeof LEVELS;

/**
 * JSON lines on stdout with a `severity` field, which Cloud Logging reads and Application Insights keeps
 * as a field (both hosts store one entry per line). An Error field is written as `{ name, message, stack }`
 * and stacks are mapped to the TypeScript sources when logged (./stack-map.ts).
 */
export function createJsonLineLogger(
  level: string = "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): CompositionLogger {
  const threshold = LEVELS[level as Level] ?? LEVELS.info;
  const log = (at: Level) => (fields: Record<string, unknown>, message: string) => {
    if (LEVELS[at] < threshold) return;
    write(
      JSON.stringify({
        severity: SEVERITY[at],
        time: new Date().toISOString(),
        ...withMappedStacks(fields),
        message,
      }),
    );
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
