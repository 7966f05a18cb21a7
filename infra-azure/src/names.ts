import { createHash } from "node:crypto";

/**
 * `<base>-<suffix>` cut to an Azure length limit; when it does not fit, the base is shortened and a
 * 4-character hash of the full name keeps two long prefixes apart.
 */
export function fitName(base: string, suffix: string, max: number): string {
  const full = `${base}-${suffix}`;
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 4);
  const room = Math.max(1, max - suffix.length - hash.length - 2);
  return `${base.slice(0, room).replace(/-+$/, "")}-${hash}-${suffix}`;
}

/** Key Vault secret names allow letters, digits and `-`; the deploy config also allows `_ . /`. */
export function keyVaultSecretName(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, "-");
}

/** An ISO 8601 duration for whole seconds (Service Bus wants `PT5M`, `PT1M30S`). */
export function isoDuration(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const time = `${hours ? `${hours}H` : ""}${minutes ? `${minutes}M` : ""}${rest ? `${rest}S` : ""}`;
  return `P${days ? `${days}D` : ""}${time ? `T${time}` : days ? "" : "T0S"}`;
}

/** `hh:mm:ss` for host.json settings such as functionTimeout. */
export function hostTimeSpan(seconds: number): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}
