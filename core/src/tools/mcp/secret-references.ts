import { SECRET_REFERENCE } from "../../config/mcp.js";
import type { Secrets } from "../../secrets/secrets.js";

export interface ResolvedValues {
  values: Record<string, string>;
  /** The secret values substituted, so logs and error messages can hide them. */
  secretValues: string[];
}

/**
 * Replaces each `{{secret:NAME}}` in the values by the named secret. Read at every (re)connect, so a
 * rotated secret is picked up by the next connection. A missing secret is an error that says which
 * entry named it and where the secret is looked up.
 */
export async function resolveSecretReferences(
  values: Readonly<Record<string, string>>,
  secrets: Secrets | undefined,
  describeEntry: (key: string) => string,
): Promise<ResolvedValues> {
  const resolved: Record<string, string> = {};
  const secretValues: string[] = [];
  for (const [key, template] of Object.entries(values)) {
    const names = [...template.matchAll(SECRET_REFERENCE)].map((match) => match[1]!);
    const found = new Map<string, string>();
    for (const name of new Set(names)) {
      const value = secrets ? await secrets.get(name) : undefined;
      if (value === undefined) {
        const where = secrets?.describe?.(name);
        throw new Error(
          `${describeEntry(key)} names secret "${name}", which is not configured${where ? `: set ${where}` : " (no Secrets port was given)"}`,
        );
      }
      found.set(name, value);
      secretValues.push(value);
    }
    resolved[key] = template.replace(SECRET_REFERENCE, (_, name: string) => found.get(name)!);
  }
  return { values: resolved, secretValues };
}

/** The text with every secret value replaced by `<redacted>`. */
export function redactSecrets(text: string, secretValues: readonly string[]): string {
  let out = text;
  for (const value of secretValues) if (value.length > 0) out = out.split(value).join("<redacted>");
  return out;
}
