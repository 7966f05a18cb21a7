/** JSON lines on stdout with Cloud Logging's `severity` field (Cloud Run keeps one entry per line). */
export interface GcpLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
const SEVERITY = { debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR" } as const;
type Level = keyof typeof LEVELS;

export function createGcpLogger(
  level: string = "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): GcpLogger {
  const threshold = LEVELS[level as Level] ?? LEVELS.info;
  const log = (at: Level) => (fields: Record<string, unknown>, message: string) => {
    if (LEVELS[at] < threshold) return;
    write(JSON.stringify({ severity: SEVERITY[at], time: new Date().toISOString(), ...fields, message }));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
