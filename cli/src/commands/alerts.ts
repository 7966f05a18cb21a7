import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AatApiError, unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { CliError, UsageError } from "../errors.js";
import { formatTime, printJson, table } from "../output.js";
import { examples } from "../program.js";
import { ALERT_FORMATS, AUTH_MODES, type SourceView } from "./sources.js";

/** The sample payloads shipped with the repository, one per format. */
const SAMPLES_DIR = fileURLToPath(new URL("../../../examples/alerts/", import.meta.url));
const STATUSES = ["new", "triaging", "awaiting_approval", "resolved"] as const;
const RESOLUTIONS = ["true_positive", "false_positive", "benign", "duplicate", "other"] as const;

interface AlertSummary {
  id: string;
  title: string;
  severity: string;
  status: string;
  source: string;
  format: string;
  time: string;
  count: number;
  resolution?: { kind: string; comment?: string };
}

interface Delivery {
  source: string;
  accepted: number;
  alerts: Array<{ id: string; fingerprint: string; duplicate: boolean; runId?: string }>;
}

/** The headers that authenticate `body` for a source in `mode`; the HMAC scheme is the server's own. */
export async function authHeaders(
  auth: SourceView["auth"],
  secret: string,
  body: string,
  nowSeconds: number,
): Promise<Record<string, string>> {
  switch (auth.mode) {
    case "hmac": {
      // @aat/core is large: loaded only when a payload is signed, so the other commands start quickly.
      const { signWebhook } = await import("@aat/core");
      return { "X-AAT-Signature": signWebhook(secret, body, nowSeconds) };
    }
    case "github":
      return { "X-Hub-Signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` };
    case "bearer":
      return { authorization: `Bearer ${secret}` };
    case "basic":
      return {
        authorization: `Basic ${Buffer.from(`${auth.username ?? ""}:${secret}`).toString("base64")}`,
      };
    case "api_key":
      return { [auth.header ?? "X-API-Key"]: secret };
  }
}

export function registerAlerts(program: Command): void {
  const alerts = examples(
    program.command("alerts").description("Alerts: send a payload to a webhook source, list, show, resolve."),
    ["aat alerts send --source ci-generic --sample generic", "aat alerts list --status new"],
  );

  examples(
    alerts
      .command("send")
      .description(
        "Deliver an alert payload to a webhook source, authenticated the way the source expects (HMAC-signed for hmac sources).",
      )
      .requiredOption("-s, --source <id>", "webhook source id (see `aat sources list`)")
      .option(
        "--secret <secret>",
        "the source's secret (env AAT_SOURCE_SECRET; default: the one `aat sources create|rotate` saved in the profile)",
      )
      .option(
        "-f, --format <format>",
        `format of FILE (${ALERT_FORMATS.join(", ")}); must match the source's`,
      )
      .option("--sample <format>", "send the shipped sample payload of this format instead of a FILE")
      .option(
        "-a, --auth <mode>",
        `the source's auth mode (${AUTH_MODES.join(", ")}); read from the source when not given (needs admin)`,
      )
      .option("--username <name>", "basic auth: the user name, when --auth is given")
      .option("--header <name>", "api_key auth: the header, when --auth is given")
      .argument("[file]", "JSON payload to send (- for stdin)")
      .action(
        async (
          file: string | undefined,
          options: {
            source: string;
            secret?: string;
            format?: string;
            sample?: string;
            auth?: string;
            username?: string;
            header?: string;
          },
          command: Command,
        ) => {
          const ctx = contextOf(command);
          if ((file === undefined) === (options.sample === undefined))
            throw new UsageError("give a FILE with --format F, or --sample F (not both)");
          if (file !== undefined && options.format === undefined)
            throw new UsageError(`--format is needed with a FILE; use one of ${ALERT_FORMATS.join(", ")}`);
          const format = options.sample ?? options.format!;
          if (!ALERT_FORMATS.includes(format as (typeof ALERT_FORMATS)[number]))
            throw new UsageError(`format ${format}: use one of ${ALERT_FORMATS.join(", ")}`);
          const secret =
            options.secret ??
            process.env.AAT_SOURCE_SECRET ??
            (await ctx.settings()).profile?.sourceSecrets?.[options.source];
          if (!secret)
            throw new UsageError(
              `no secret for source ${options.source}: pass --secret, set AAT_SOURCE_SECRET, or create/rotate the source with this profile (\`aat sources rotate ${options.source}\` saves the new secret)`,
            );
          const body = await readPayload(file ?? join(SAMPLES_DIR, `${format}.json`));
          const client = await ctx.client();
          let auth: SourceView["auth"];
          if (options.auth !== undefined) {
            if (!AUTH_MODES.includes(options.auth as SourceView["auth"]["mode"]))
              throw new UsageError(`--auth ${options.auth}: use one of ${AUTH_MODES.join(", ")}`);
            auth = {
              mode: options.auth as SourceView["auth"]["mode"],
              ...(options.username ? { username: options.username } : {}),
              ...(options.header ? { header: options.header } : {}),
            };
          } else {
            const source = (await unwrap(
              // The route documents no parameters (registered by hand), so the typed init is widened.
              client.api.GET("/v1/alert-sources/{id}", { params: { path: { id: options.source } } } as never),
            )) as SourceView;
            if (source.format !== format)
              throw new UsageError(
                `source ${source.id} takes ${source.format} payloads, not ${format}; use --format ${source.format} or another source`,
              );
            auth = source.auth;
          }
          const send = async (nowSeconds: number) =>
            (await unwrap(
              client.api.POST("/v1/webhooks/{sourceId}", {
                params: { path: { sourceId: options.source } },
                body,
                // The signature covers these exact bytes: send them as read, not re-serialised.
                bodySerializer: (raw: unknown) => raw as string,
                headers: {
                  "content-type": "application/json",
                  ...(await authHeaders(auth, secret, body, nowSeconds)),
                },
              }),
            )) as Delivery;
          const signedAt = Date.now() / 1000;
          let delivery: Delivery;
          try {
            delivery = await send(signedAt);
          } catch (error) {
            // The HMAC covers the timestamp (whole seconds) and the body, so the same payload sent twice
            // within one second carries the same signature, which the server refuses as a replay. It is a
            // new delivery to us: sign it again in the next second, once.
            if (!isReplayedSignature(error)) throw error;
            await sleepUntil((Math.floor(signedAt) + 1) * 1000);
            delivery = await send(Date.now() / 1000);
          }
          if (ctx.json) return printJson(delivery);
          for (const alert of delivery.alerts) {
            console.log(
              `${alert.duplicate ? "duplicate" : "new      "} ${alert.id}${alert.runId ? ` triage run ${alert.runId}` : ""}`,
            );
          }
          console.error(
            ctx.colors.dim(`${delivery.accepted} alert(s) accepted by source ${delivery.source}`),
          );
        },
      ),
    [
      "aat alerts send --source ci-generic --sample generic",
      "aat alerts send --source ci-generic --secret $SECRET --sample generic",
      "aat alerts send --source am --format alertmanager alert.json --json",
      "cat alert.json | aat alerts send --source ci-generic --format generic -",
    ],
  );

  examples(
    alerts
      .command("list")
      .description("Alerts, newest first, filtered by status, severity, source or title words.")
      .option("--status <status>", `only this status (${STATUSES.join(", ")})`)
      .option("--severity <severity>", "only this severity (e.g. high, critical)")
      .option("--source <id>", "only alerts from this source")
      .option("-q, --query <words>", "words that must all appear in the title")
      .option("-n, --limit <n>", "at most this many (1-500)", "50")
      .action(
        async (
          options: { status?: string; severity?: string; source?: string; query?: string; limit: string },
          command: Command,
        ) => {
          const ctx = contextOf(command);
          if (options.status && !STATUSES.includes(options.status as (typeof STATUSES)[number]))
            throw new UsageError(`--status ${options.status}: use one of ${STATUSES.join(", ")}`);
          const limit = Number(options.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 500)
            throw new UsageError(`--limit ${options.limit}: use a whole number from 1 to 500`);
          const client = await ctx.client();
          const page = (await unwrap(
            client.api.GET("/v1/alerts", {
              params: {
                query: {
                  limit,
                  ...(options.status ? { status: options.status } : {}),
                  ...(options.severity ? { severity: options.severity.toLowerCase() } : {}),
                  ...(options.source ? { source: options.source } : {}),
                  ...(options.query ? { q: options.query } : {}),
                } as never,
              },
            }),
          )) as { items: AlertSummary[]; cursor?: string };
          if (ctx.json) return printJson(page.items);
          console.log(
            table(
              ["ID", "SEVERITY", "STATUS", "SOURCE", "TIME", "TITLE"],
              page.items.map((a) => [
                a.id,
                a.severity,
                a.status,
                a.source,
                formatTime(Date.parse(a.time)),
                a.title,
              ]),
              ctx.colors,
            ),
          );
        },
      ),
    ["aat alerts list", "aat alerts list --status new --severity high --json"],
  );

  examples(
    alerts
      .command("show")
      .description("One alert: its fields, observables, triage runs and timeline.")
      .argument("<id>", "alert id (see `aat alerts list`)")
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const alert = (await unwrap(
          client.api.GET("/v1/alerts/{id}", { params: { path: { id } } } as never),
        )) as AlertSummary & {
          observables?: Array<{ name?: string; type?: string; value?: string }>;
          runs?: Array<{ runId: string; status: string; planId?: string }>;
          timeline?: Array<{ at: string; by: string; type: string }>;
        };
        if (ctx.json) return printJson(alert);
        const c = ctx.colors;
        console.log(`${c.bold(alert.title)}`);
        console.log(`id        ${alert.id}`);
        console.log(`severity  ${alert.severity}`);
        console.log(
          `status    ${alert.status}${alert.resolution ? ` (${alert.resolution.kind}${alert.resolution.comment ? `: ${alert.resolution.comment}` : ""})` : ""}`,
        );
        console.log(`source    ${alert.source} (${alert.format}), seen ${alert.count} time(s)`);
        console.log(`time      ${alert.time}`);
        for (const o of alert.observables ?? [])
          console.log(`observable ${o.type ?? o.name ?? "?"} ${o.value ?? ""}`);
        for (const run of alert.runs ?? [])
          console.log(`run       ${run.runId} ${run.planId ?? ""} ${run.status}`);
        for (const entry of alert.timeline ?? [])
          console.log(c.dim(`${entry.at} ${entry.type} by ${entry.by}`));
      }),
    ["aat alerts show 0190…", "aat alerts show 0190… --json"],
  );

  examples(
    alerts
      .command("resolve")
      .description("Resolve an alert with a resolution kind and an optional comment.")
      .argument("<id>", "alert id (see `aat alerts list`)")
      .requiredOption("-k, --kind <kind>", `the resolution (${RESOLUTIONS.join(", ")})`)
      .option("-m, --comment <text>", "why")
      .action(async (id: string, options: { kind: string; comment?: string }, command: Command) => {
        const ctx = contextOf(command);
        const kind = options.kind as (typeof RESOLUTIONS)[number];
        if (!RESOLUTIONS.includes(kind))
          throw new UsageError(`--kind ${options.kind}: use one of ${RESOLUTIONS.join(", ")}`);
        const client = await ctx.client();
        const alert = (await unwrap(
          client.api.PATCH("/v1/alerts/{id}", {
            params: { path: { id } },
            body: {
              status: "resolved",
              resolution: { kind, ...(options.comment ? { comment: options.comment } : {}) },
            },
          } as never),
        )) as AlertSummary;
        if (ctx.json) return printJson(alert);
        console.log(`resolved alert ${id} (${kind})`);
      }),
    ["aat alerts resolve 0190… --kind false_positive -m 'scanner test'"],
  );
}

async function readPayload(path: string): Promise<string> {
  let text: string;
  try {
    text = path === "-" ? await readStdin() : await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON (${(error as Error).message}); send a JSON payload`);
  }
  return text;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function isReplayedSignature(error: unknown): boolean {
  return (
    error instanceof AatApiError && error.status === 401 && error.problem.reason === "replayed_signature"
  );
}

function sleepUntil(epochMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
}
