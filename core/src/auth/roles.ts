import { z } from "zod";

/** Every role a caller can hold; a route names the roles it allows and admin is always allowed. */
export const ROLES = ["admin", "responder", "analyst", "developer", "viewer"] as const;

export type Role = (typeof ROLES)[number];

export const roleSchema = z.enum(ROLES);

/** One line per role, for docs, the CLI and error messages. */
export const ROLE_DESCRIPTIONS: Readonly<Record<Role, string>> = {
  admin: "everything, including API keys, plan sources and settings",
  responder: "alerts, approvals and runs (read, start, cancel)",
  analyst: "analytics questions and runs (read, start)",
  developer: "plans (validate, dry-run, publish) and runs",
  viewer: "read-only access",
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Whether a caller holding `held` may use something that allows `allowed`; admin passes every check. */
export function rolesAllow(held: readonly Role[], allowed: readonly Role[]): boolean {
  if (held.includes("admin")) return true;
  return held.some((role) => allowed.includes(role));
}
