import { z } from "zod";

/** What a deployment tells the site at load time (/config.json next to the built pages). */
export const siteConfigSchema = z.object({
  /** Where the API is; empty or missing means the same origin that served the site. */
  apiBaseUrl: z.string().default(""),
  auth: z
    .object({
      mode: z.enum(["apiKey", "oidc"]).default("apiKey"),
      /** OIDC: the identity provider (its /.well-known/openid-configuration is read) and this site's client id. */
      issuer: z.string().url().optional(),
      clientId: z.string().optional(),
      /** OIDC: scopes asked for (default "openid profile email"). */
      scope: z.string().optional(),
      /** OIDC: the API as an RFC 8707 resource, or an `audience` parameter (Auth0), when the provider needs one to issue a JWT access token for it. */
      resource: z.string().optional(),
      audience: z.string().optional(),
    })
    .refine((a) => a.mode !== "oidc" || (a.issuer !== undefined && a.clientId !== undefined), {
      message: "auth.mode oidc needs auth.issuer and auth.clientId",
    })
    .default({ mode: "apiKey" }),
});
export type SiteConfig = z.infer<typeof siteConfigSchema> & { apiBaseUrl: string };

let loaded: Promise<SiteConfig> | undefined;

/** Fetches and validates /config.json once per page; the error names the file and the bad field. */
export function loadConfig(): Promise<SiteConfig> {
  loaded ??= (async () => {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (!response.ok) {
      throw new Error(`/config.json answered ${response.status}: the host must serve it next to the pages`);
    }
    const parsed = siteConfigSchema.safeParse(await response.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`/config.json is invalid at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
    }
    const apiBaseUrl = parsed.data.apiBaseUrl.trim() || window.location.origin;
    return { ...parsed.data, apiBaseUrl };
  })();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}
