/**
 * Secrets port: named secrets (webhook HMAC keys, tool credentials) resolved at use time, so they are
 * never part of plans, configuration dumps or logs. Cloud runtimes implement it over their secret
 * managers; `EnvSecrets` reads environment variables.
 */
export interface Secrets {
  /** The secret's value, or undefined when no secret of that name is configured. */
  get(name: string): Promise<string | undefined>;
  /** Where the secret `name` is looked up (never its value), for messages that tell an operator what to set. */
  describe?(name: string): string;
}

/** `AAT_SECRET_<NAME>`: the name upper-cased, every character other than A-Z and 0-9 replaced by `_`. */
export function secretEnvName(name: string): string {
  return `AAT_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Secrets from environment variables named by `secretEnvName` (`github-hook` → `AAT_SECRET_GITHUB_HOOK`). */
export class EnvSecrets implements Secrets {
  constructor(private readonly env: Readonly<Record<string, string | undefined>> = process.env) {}

  async get(name: string): Promise<string | undefined> {
    const value = this.env[secretEnvName(name)];
    // An empty variable is a configuration slip, not a key: treat it as missing rather than signing with "".
    return value === undefined || value === "" ? undefined : value;
  }

  /** Where the secret `name` is expected, for error messages that tell an operator what to set. */
  describe(name: string): string {
    return `environment variable ${secretEnvName(name)}`;
  }
}
