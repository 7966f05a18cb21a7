import { z } from "zod";
import { type Role, roleSchema, rolesAllow } from "./roles.js";

/** Who is calling: an API key, an OIDC subject, or nobody when auth is switched off. */
export interface Principal {
  /** "key:<id>", "oidc:<sub>", or "anonymous" when auth mode is none. */
  id: string;
  name?: string;
  roles: Role[];
  via: "apiKey" | "oidc" | "none";
}

export const principalSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  roles: z.array(roleSchema),
  via: z.enum(["apiKey", "oidc", "none"]),
});

/** The caller in auth mode "none": everyone is an admin, which is why that mode needs an explicit opt-in. */
export function anonymousAdmin(): Principal {
  return { id: "anonymous", roles: ["admin"], via: "none" };
}

/** Whether `principal` may use something that allows `roles`; admin always may. For callers outside Hono. */
export function allows(principal: Principal | undefined, roles: readonly Role[]): boolean {
  if (principal === undefined) return false;
  return rolesAllow(principal.roles, roles);
}
