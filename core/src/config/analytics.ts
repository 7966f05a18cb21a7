import * as z from "zod/mini";
import { MAP_KEY_FORM, mapKeyName, positiveInt, setting, text } from "./meta.js";
import { configSection } from "./section.js";

/**
 * The `analytics` section: the embedded sample data source and the data sources of the deployment
 * (read-only SQL; docs/workflows-analytics.md). Connection URLs are never written here: `urlSecret`
 * names the secret that holds one (with the default secrets, the environment variable
 * AAT_SECRET_<NAME>).
 */

const configuredSource = () =>
  z
    .strictObject({
      name: z.optional(text().check(z.maxLength(200))),
      engine: z.enum(["postgres", "mysql", "mariadb", "sqlite"]),
      urlSecret: z.optional(text()),
      path: z.optional(text()),
    })
    .check(
      z.superRefine((source, ctx) => {
        if (source.engine === "sqlite" && source.path === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["path"],
            message: "missing, a sqlite data source needs its file",
          });
        }
        if (source.engine !== "sqlite" && source.urlSecret === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["urlSecret"],
            message: `missing, a ${source.engine} data source needs the name of the secret holding its connection URL`,
          });
        }
      }),
    );

export const analyticsSection = configSection("analytics", () =>
  z.strictObject({
    sample: setting(z._default(z.boolean(), true), {
      env: "AAT_ANALYTICS_SAMPLE",
      description:
        "Offer the embedded PGlite sample (90 days of generated security events, data source id `sample`). It is loaded in memory on first use.",
    }),
    datasources: setting(z._default(z.record(mapKeyName(), configuredSource()), {}), {
      env: "AAT_ANALYTICS_DATASOURCES_JSON",
      mapKey: "id",
      description:
        "Data sources of the deployment, besides those added through the API; they cannot be deleted through it. Use a read-only database role.",
      expected: `a JSON object mapping a data source id (${MAP_KEY_FORM}) to { name, engine: postgres|mysql|mariadb|sqlite, urlSecret (postgres, mysql, mariadb), path (sqlite) }`,
      example: '{"warehouse":{"engine":"postgres","urlSecret":"warehouse-url"}}',
    }),
    maxRows: setting(z._default(positiveInt().check(z.maximum(10_000)), 1000), {
      env: "AAT_ANALYTICS_MAX_ROWS",
      description: "Rows one query returns at most (sql.query, a page of POST /v1/analytics/query).",
    }),
    timeoutMs: setting(z._default(z.number().check(z.int(), z.minimum(100), z.maximum(600_000)), 10_000), {
      env: "AAT_ANALYTICS_TIMEOUT_MS",
      description: "Statement timeout of analytics queries, enforced by the database.",
    }),
  }),
);

export type AnalyticsConfig = z.output<typeof analyticsSection>;
