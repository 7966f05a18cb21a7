/** One thing wrong with the configuration, located by key and by where the value can be set. */
export interface ConfigProblem {
  /** Dotted key, e.g. `queue.nats.servers`; `config file` for problems with the file itself. */
  key: string;
  /** The environment variable that supplied the value, or the one that would set it. */
  env?: string;
  /** The config file, when the value came from it or could be set in it. */
  file?: string;
  /** What is wrong. Never contains a secret's value. */
  problem: string;
  /** The accepted form. */
  expected: string;
}

export function formatProblem({ key, env, file, problem, expected }: ConfigProblem): string {
  const where = [env && `env ${env}`, file && `file ${file}`].filter(Boolean).join(", ");
  return `- ${key}${where ? ` (${where})` : ""}: ${problem}; expected ${expected}`;
}

/**
 * Thrown by loadConfig; its message lists every problem, one per line, then the warnings (a misspelt
 * variable is often why a setting is missing).
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly string[];

  constructor(problems: readonly ConfigProblem[], warnings: readonly string[] = []) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const warningLines =
      warnings.length > 0 ? `\nWarnings:\n${warnings.map((line) => `- ${line}`).join("\n")}` : "";
    super(`Invalid configuration (${count}):\n${problems.map(formatProblem).join("\n")}${warningLines}`);
    this.name = "ConfigError";
    this.problems = problems;
    this.warnings = warnings;
  }
}

export const REDACTED = "<redacted>";

/** A value as shown in an error: secrets never, long values cut short. */
export function showValue(value: unknown, secret: boolean): string {
  if (secret) return REDACTED;
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
