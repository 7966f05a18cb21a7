/** JSON lines on stdout (Application Insights / the Functions host log keeps one entry per line). */
export interface AzureLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
const SEVERITY = { debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR" } as const;
type Level = keyof typeof LEVELS;

export function createAzureLogger(
  level: string = "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): AzureLogger {
  const threshold = LEVELS[level as Level] ?? LEVELS.info;
  const log = (at: Level) => (fields: Record<string, unknown>, message: string) => {
    if (LEVELS[at] < threshold) return;
    write(JSON.stringify({ severity: SEVERITY[at], time: new Date().toISOString(), ...fields, message }));
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}
