import { isIP } from "node:net";
import type { Observable, ObservableType, Resource } from "../ocsf.js";

/** A payload the mapper cannot read: `path` names the missing or unreadable field (answered as 422). */
export class AlertMappingError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = "AlertMappingError";
  }
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Reads a field by path. A key may itself contain dots (Kibana alert documents use flat dotted keys such
 * as `kibana.alert.uuid` next to nested ECS objects), so at each level the longest matching dotted key wins.
 */
export function at(value: unknown, path: string): unknown {
  if (path === "") return value;
  if (!isObject(value)) return undefined;
  if (path in value) return value[path];
  const parts = path.split(".");
  for (let n = parts.length - 1; n >= 1; n--) {
    const head = parts.slice(0, n).join(".");
    if (head in value) {
      const found = at(value[head], parts.slice(n).join("."));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A string (numbers are accepted and written in decimal) or undefined. */
export function text(value: unknown, path: string): string | undefined {
  const v = at(value, path);
  if (typeof v === "string") return v.trim() === "" ? undefined : v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

export function requireObject(value: unknown, path: string, where: string): Json {
  const v = at(value, path);
  if (!isObject(v)) {
    throw new AlertMappingError(
      where,
      v === undefined ? "missing: expected an object" : "expected an object",
    );
  }
  return v;
}

export function requireText(value: unknown, path: string, where: string): string {
  const v = text(value, path);
  if (v === undefined) throw new AlertMappingError(where, "missing: expected a non-empty string");
  return v;
}

export function requireArray(value: unknown, path: string, where: string): unknown[] {
  const v = at(value, path);
  if (!Array.isArray(v))
    throw new AlertMappingError(where, v === undefined ? "missing: expected an array" : "expected an array");
  if (v.length === 0) throw new AlertMappingError(where, "is empty: expected at least one item");
  return v;
}

/** Epoch ms from an ISO 8601 string (any fraction length, `+0000` offsets), epoch seconds or ms. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    // Below 1e11 it can only be seconds (1e11 ms is 1973).
    return Math.round(value < 1e11 ? value * 1000 : value);
  }
  if (typeof value !== "string" || value.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return timeOf(Number(value));
  const iso = value
    .trim()
    .replace(/(\.\d{3})\d+/, "$1")
    .replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  const ms = Date.parse(iso);
  // Alertmanager writes 0001-01-01T00:00:00Z for "no end"; anything before 1970 is no time.
  return Number.isNaN(ms) || ms < 0 ? undefined : ms;
}

export function requireTime(value: unknown, path: string, where: string): number {
  const v = at(value, path);
  const ms = timeOf(v);
  if (ms === undefined) {
    throw new AlertMappingError(
      where,
      v === undefined ? "missing: expected a timestamp" : "is not a readable timestamp (ISO 8601 or epoch)",
    );
  }
  return ms;
}

const DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.[a-z]{2,63}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HASH_ALGORITHMS: Record<number, string> = { 32: "md5", 40: "sha1", 64: "sha256", 128: "sha512" };

/** Collects typed observables, dropping empties, duplicates and values that are not what their type says. */
export class Observables {
  private readonly items: Observable[] = [];
  private readonly seen = new Set<string>();

  add(type: ObservableType, raw: unknown, name: string, role?: string): this {
    if (Array.isArray(raw)) {
      for (const item of raw) this.add(type, item, name, role);
      return this;
    }
    let value = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim() : "";
    if (value === "" || value === "-" || value === "N/A") return this;
    let algorithm: string | undefined;
    switch (type) {
      case "ip":
        value = stripPort(value);
        if (!isIP(value)) return this;
        break;
      case "domain":
        value = value.toLowerCase().replace(/\.$/, "");
        if (!DOMAIN.test(value) || isIP(value)) return this;
        break;
      case "url":
        if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return this;
        break;
      case "hash":
        value = value.toLowerCase();
        if (!/^[0-9a-f]+$/.test(value) || !HASH_ALGORITHMS[value.length]) return this;
        algorithm = HASH_ALGORITHMS[value.length];
        break;
      case "email":
        if (!EMAIL.test(value)) return this;
        value = value.toLowerCase();
        break;
      case "host":
        value = stripPort(value);
        break;
      default:
        break;
    }
    const key = `${type}\n${value}`;
    if (this.seen.has(key)) return this;
    this.seen.add(key);
    this.items.push({
      type,
      value,
      name,
      ...(role !== undefined ? { role } : {}),
      ...(algorithm !== undefined ? { algorithm } : {}),
    });
    return this;
  }

  /** A host name that is really an address is an ip observable; a dotted name is also a domain. */
  addHost(raw: unknown, name: string, role?: string): this {
    const value = typeof raw === "string" ? stripPort(raw.trim()) : undefined;
    if (!value) return this;
    if (isIP(value)) return this.add("ip", value, name, role);
    return this.add("host", value, name, role);
  }

  list(): Observable[] {
    return [...this.items];
  }
}

/** `10.0.0.5:9100` → `10.0.0.5`, `[2001:db8::1]:443` → `2001:db8::1`; a bare IPv6 address is left alone. */
function stripPort(value: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return bracketed[1]!;
  if (isIP(value)) return value;
  const hostPort = /^([^:]+):\d+$/.exec(value);
  return hostPort ? hostPort[1]! : value;
}

export function resource(type: string, fields: Omit<Resource, "type">): Resource {
  const out: Resource = { type };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== "") (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Lower-case severity words products use, to OCSF severity_id. */
export function severityFromWord(word: string | undefined, fallback = 0): number {
  if (word === undefined) return fallback;
  const w = word.trim().toLowerCase();
  const table: Record<string, number> = {
    unknown: 0,
    info: 1,
    informational: 1,
    information: 1,
    debug: 1,
    none: 1,
    low: 2,
    notice: 2,
    minor: 2,
    warning: 3,
    warn: 3,
    medium: 3,
    moderate: 3,
    major: 4,
    high: 4,
    error: 4,
    severe: 4,
    critical: 5,
    page: 5,
    alert: 5,
    emergency: 6,
    fatal: 6,
  };
  return table[w] ?? fallback;
}
