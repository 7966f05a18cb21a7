import * as z from "zod/mini";
import { ALERT_FORMATS } from "../workflows/alerts/formats.js";
import { sourceAuthSchema, sourceIdSchema } from "../workflows/alerts/source-auth.js";
import { positiveInt, setting } from "./meta.js";
import { configSection } from "./section.js";

/**
 * The `alerts` section: dedupe and related windows, and webhook sources defined in configuration.
 * Configured sources sit next to the ones created through the API (kept in KV); they are read-only
 * there: rotating or disabling one is done here. Their secrets are never written in the file: each
 * names a secret that the Secrets port resolves at start (`AAT_SECRET_<NAME>` in the environment).
 */

const SECRET_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const secretName = () =>
  z
    .string()
    .check(
      z.regex(
        SECRET_NAME,
        "must be a secret name (lower-case letters, digits, - and _, starting with a letter): the value is read from AAT_SECRET_<NAME>, never written here",
      ),
    );

// Built with the section (configSection), when a configuration sets alerts.
const configuredSource = () =>
  z
    .strictObject({
      id: sourceIdSchema,
      format: z.enum(ALERT_FORMATS),
      auth: z.strictObject(sourceAuthSchema.shape),
      /** The name of the secret (HMAC key, token, password or API key). */
      secret: secretName(),
      /** During a rotation: the previous secret, still accepted until it is removed from here. */
      previousSecret: z.optional(secretName()),
      description: z.optional(z.string().check(z.maxLength(500))),
      disabled: z._default(z.boolean(), false),
      toleranceMs: z.optional(positiveInt()),
      maxBodyBytes: z.optional(positiveInt().check(z.maximum(16 * 1024 * 1024))),
      dedupeWindowMs: z.optional(positiveInt()),
      relatedWindowMs: z.optional(positiveInt()),
    })
    .check(
      z.refine((s) => s.auth.mode !== "basic" || s.auth.username !== undefined, {
        path: ["auth", "username"],
        message: "basic auth needs a username (the secret is the password)",
      }),
    );
export type ConfiguredSource = z.output<ReturnType<typeof configuredSource>>;

export const alertsSection = configSection("alerts", () =>
  z.strictObject({
    dedupeWindowMs: setting(z._default(positiveInt(), 86_400_000), {
      env: "AAT_ALERTS_DEDUPE_WINDOW_MS",
      description:
        "An alert with the same fingerprint within this window merges into the existing one (count, last_seen) instead of starting a new triage; a source's dedupeWindowMs overrides it.",
    }),
    relatedWindowMs: setting(z._default(positiveInt(), 86_400_000), {
      env: "AAT_ALERTS_RELATED_WINDOW_MS",
      description:
        "Alerts sharing an observable value within this window are linked as related; a source's relatedWindowMs overrides it.",
    }),
    sources: setting(
      z._default(z.array(configuredSource()), []).check(
        z.superRefine((sources, ctx) => {
          const seen = new Set<string>();
          sources.forEach((s, i) => {
            if (seen.has(s.id))
              ctx.addIssue({ code: "custom", path: [i, "id"], message: `source "${s.id}" is defined twice` });
            seen.add(s.id);
          });
        }),
      ),
      {
        env: "AAT_ALERTS_SOURCES_JSON",
        description:
          "Webhook sources defined in configuration (the file, or AAT_ALERTS_SOURCES_JSON as a JSON array), next to those created with POST /v1/alert-sources; read-only through the API (rotate, disable: edit them here and restart). Each is { id, format, auth: { mode, header?, username? }, secret, previousSecret?, description?, disabled?, toleranceMs?, maxBodyBytes?, dedupeWindowMs?, relatedWindowMs? } where secret and previousSecret are secret names read from AAT_SECRET_<NAME> at start. See docs/workflows-alerts.md.",
        expected:
          "a list of { id, format, auth: { mode, header?, username? }, secret (a secret name), previousSecret?, … } (env: a JSON array)",
        example:
          '[{"id":"falco","format":"falco","auth":{"mode":"bearer"},"secret":"falco_hook"}] with AAT_SECRET_FALCO_HOOK set',
      },
    ),
  }),
);

export type AlertsConfig = z.output<typeof alertsSection>;
