import type { KvEntry } from "@aat/core";

/**
 * Reads the packed `<version>|<json>` string the scripts write. One string per key (rather than a hash
 * with version and value fields) measured faster and lets get and getMany be plain GET and MGET.
 */
export function unpackEntry<T>(packed: string, describe: () => string): KvEntry<T> {
  const bar = packed.indexOf("|");
  const version = bar > 0 ? Number(packed.slice(0, bar)) : Number.NaN;
  if (!Number.isInteger(version) || version < 1) throw damagedEntry(describe, "has no <version>| header");
  try {
    return { value: JSON.parse(packed.slice(bar + 1)) as T, version };
  } catch (error) {
    throw damagedEntry(describe, `holds invalid JSON (${(error as Error).message})`);
  }
}

export function damagedEntry(describe: () => string, problem: string): Error {
  return new Error(
    `${describe()} ${problem}: it was not written by aat, or edited by hand; ` +
      "rewrite it through the adapter or delete it",
  );
}
