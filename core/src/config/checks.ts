import type * as core from "zod/v4/core";
import { listSettings } from "./introspect.js";
import { getAt } from "./values.js";

/**
 * Rules that span several settings. They run even when other settings already failed (the value may be
 * partly raw input), so start-up reports every problem at once; hence the defensive reads.
 */

export function checkCrossSettings(fields: core.$ZodType, config: unknown, ctx: core.$RefinementCtx): void {
  for (const { path, meta } of listSettings(fields)) {
    const rule = meta.requiredWhen;
    if (!rule) continue;
    if (getAt(config, rule.key.split(".")) === rule.is && getAt(config, path) === undefined) {
      ctx.addIssue({ code: "custom", path, message: `missing, required when ${rule.key} is ${rule.is}` });
    }
  }

  if (getAt(config, ["auth", "mode"]) === "none" && getAt(config, ["auth", "allowNone"]) !== true) {
    ctx.addIssue({
      code: "custom",
      path: ["auth", "mode"],
      message:
        '"none" turns authentication off: anyone who can reach the server could start runs, read their results and approve actions',
      params: { expected: "apiKey or oidc, or set AAT_AUTH_ALLOW_NONE=true to accept that risk" },
    });
  }

  const providers = getAt(config, ["models", "providers"]);
  const defaultAlias = getAt(config, ["models", "default"]);
  if (typeof providers === "object" && providers !== null && typeof defaultAlias === "string") {
    const aliases = Object.keys(providers);
    if (!aliases.includes(defaultAlias)) {
      ctx.addIssue({
        code: "custom",
        path: ["models", "default"],
        message: `"${defaultAlias}" is not a configured model alias`,
        params: {
          expected:
            aliases.length > 0 ? `one of: ${aliases.join(", ")}` : "an alias configured in models.providers",
        },
      });
    }
  }
}
