import { createHash } from "node:crypto";
import type { MappedAlert } from "./mappers/types.js";

/** Observable kinds that identify what an alert is about (a process name or email alone is too common). */
const KEY_TYPES = new Set(["ip", "domain", "url", "hash", "user", "host"]);

/**
 * The dedupe key of an alert: the product's own id when it has one, else a hash of source, rule and the
 * key observables (sorted, so field order does not matter).
 */
export function fingerprintOf(sourceId: string, format: string, alert: MappedAlert): string {
  if (alert.nativeId !== undefined) return `${format}:${alert.nativeId}`;
  const keys = alert.observables
    .filter((o) => KEY_TYPES.has(o.type))
    .map((o) => `${o.type}=${o.value}`)
    .sort();
  const hash = createHash("sha256")
    .update([sourceId, alert.rule, ...keys].join("\n"))
    .digest("hex");
  return `sha256:${hash.slice(0, 40)}`;
}

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
