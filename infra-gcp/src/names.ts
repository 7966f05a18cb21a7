import { createHash } from "node:crypto";

/**
 * `<base>-<suffix>` cut to a cloud's length limit. When it does not fit, the base is shortened and a
 * 4-character hash of the full name keeps two long prefixes apart (service account ids allow 30
 * characters, bucket names 63, while `<name>-<environment>` may reach 37).
 */
export function fitName(base: string, suffix: string, max: number): string {
  const full = `${base}-${suffix}`;
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 4);
  const room = Math.max(1, max - suffix.length - hash.length - 2);
  return `${base.slice(0, room).replace(/-+$/, "")}-${hash}-${suffix}`;
}
