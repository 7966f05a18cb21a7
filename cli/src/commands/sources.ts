import { unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { type CommandContext, contextOf } from "../context.js";
import { UsageError } from "../errors.js";
import { printJson, table } from "../output.js";
import { saveSourceSecret } from "../profiles.js";
import { examples } from "../program.js";

export const ALERT_FORMATS = [
  "generic",
  "alertmanager",
  "guardduty",
  "elastic",
  "splunk",
  "wazuh",
  "falco",
  "suricata",
] as const;
export const AUTH_MODES = ["hmac", "github", "bearer", "basic", "api_key"] as const;

/** A source as GET /v1/alert-sources shows it (secrets by id only). */
export interface SourceView {
  id: string;
  format: string;
  auth: { mode: (typeof AUTH_MODES)[number]; header?: string; username?: string };
  disabled?: boolean;
  description?: string;
  secrets?: Array<{ id: string; createdAt: string }>;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!allowed.includes(value as T))
    throw new UsageError(`${flag} ${value}: use one of ${allowed.join(", ")}`);
  return value as T;
}

export function registerSources(program: Command): void {
  const sources = examples(
    program.command("sources").description("Webhook alert sources (admin): create, list, rotate."),
    ["aat sources create --id ci-generic --format generic", "aat sources list"],
  );

  examples(
    sources
      .command("create")
      .description(
        "Create a webhook source; its secret is printed once and saved in the profile (mode 0600), so `aat alerts send --source ID` signs with it.",
      )
      .requiredOption("-i, --id <id>", "source id, part of the webhook URL /v1/webhooks/ID")
      .requiredOption("-f, --format <format>", `payload format (${ALERT_FORMATS.join(", ")})`)
      .option("-a, --auth <mode>", `how deliveries authenticate (${AUTH_MODES.join(", ")})`, "hmac")
      .option("--username <name>", "basic auth: the user name (the secret is the password)")
      .option("--header <name>", "api_key auth: the header carrying the key (default X-API-Key)")
      .option("--secret <secret>", "use this secret (at least 16 characters) instead of a generated one")
      .option("-d, --description <text>", "what the source is")
      .option("--no-save", "do not save the secret in the profile (print it only)")
      .action(
        async (
          options: {
            id: string;
            format: string;
            auth: string;
            username?: string;
            header?: string;
            secret?: string;
            description?: string;
            save: boolean;
          },
          command: Command,
        ) => {
          const ctx = contextOf(command);
          const format = oneOf(options.format, ALERT_FORMATS, "--format");
          const mode = oneOf(options.auth, AUTH_MODES, "--auth");
          if (mode === "basic" && !options.username)
            throw new UsageError("--auth basic needs --username (the secret is the password)");
          const client = await ctx.client();
          const created = (await unwrap(
            client.api.POST("/v1/alert-sources", {
              body: {
                id: options.id,
                format,
                auth: {
                  mode,
                  ...(options.username ? { username: options.username } : {}),
                  ...(options.header ? { header: options.header } : {}),
                },
                ...(options.secret ? { secret: options.secret } : {}),
                ...(options.description ? { description: options.description } : {}),
              },
              // These routes are registered without a request schema, so the typed init is widened.
            } as never),
          )) as { source: SourceView; secret: string; test: string };
          const saved = options.save ? await keepSecret(ctx, created.source.id, created.secret) : undefined;
          if (ctx.json) return printJson({ ...created, ...(saved ? { savedIn: saved } : {}) });
          console.log(created.secret);
          console.error(
            ctx.colors.dim(
              saved
                ? `source ${created.source.id} (${created.source.format}, ${created.source.auth.mode}): secret saved in profile ${saved.profile} (${saved.path}); send with \`aat alerts send --source ${created.source.id} --sample ${created.source.format}\``
                : `source ${created.source.id} (${created.source.format}, ${created.source.auth.mode}): the secret is shown only this once; send with \`aat alerts send --source ${created.source.id} --secret …\``,
            ),
          );
        },
      ),
    [
      "aat sources create --id ci-generic --format generic",
      "aat sources create --id am --format alertmanager --auth bearer --json",
      "aat sources create --id gd --format guardduty --auth api_key --header X-Api-Key",
    ],
  );

  examples(
    sources
      .command("list")
      .description("Every webhook source (never the secrets).")
      .action(async (_options: unknown, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const { items } = (await unwrap(client.api.GET("/v1/alert-sources"))) as { items: SourceView[] };
        if (ctx.json) return printJson(items);
        console.log(
          table(
            ["ID", "FORMAT", "AUTH", "STATUS", "SECRETS"],
            items.map((source) => [
              source.id,
              source.format,
              source.auth.mode,
              source.disabled ? "disabled" : "enabled",
              String(source.secrets?.length ?? 0),
            ]),
            ctx.colors,
          ),
        );
      }),
    ["aat sources list", "aat sources list --json"],
  );

  examples(
    sources
      .command("rotate")
      .description(
        "Give a source a new secret (printed once); the previous one stays valid until the next rotation unless --no-keep-previous.",
      )
      .argument("<id>", "source id (see `aat sources list`)")
      .option("--secret <secret>", "use this secret (at least 16 characters) instead of a generated one")
      .option("--no-keep-previous", "stop accepting the previous secret at once")
      .option("--no-save", "do not save the new secret in the profile (print it only)")
      .action(
        async (
          id: string,
          options: { secret?: string; keepPrevious: boolean; save: boolean },
          command: Command,
        ) => {
          const ctx = contextOf(command);
          const client = await ctx.client();
          const rotated = (await unwrap(
            client.api.POST("/v1/alert-sources/{id}/rotate", {
              params: { path: { id } },
              body: {
                keepPrevious: options.keepPrevious,
                ...(options.secret ? { secret: options.secret } : {}),
              },
            } as never),
          )) as { source: SourceView; secret: string };
          const saved = options.save ? await keepSecret(ctx, id, rotated.secret) : undefined;
          if (ctx.json) return printJson({ ...rotated, ...(saved ? { savedIn: saved } : {}) });
          console.log(rotated.secret);
          console.error(
            ctx.colors.dim(
              `source ${id}: new secret, ${saved ? `saved in profile ${saved.profile} (${saved.path})` : "shown only this once"}${options.keepPrevious ? "; the previous one works until the next rotation" : ""}`,
            ),
          );
        },
      ),
    ["aat sources rotate ci-generic", "aat sources rotate ci-generic --no-keep-previous --json"],
  );
}

/** Saves a source's secret in the profile the command used; `aat alerts send` finds it there. */
async function keepSecret(
  ctx: CommandContext,
  sourceId: string,
  secret: string,
): Promise<{ profile: string; path: string }> {
  const { profileName, url } = await ctx.settings();
  const path = await saveSourceSecret(profileName, url, sourceId, secret);
  return { profile: profileName, path };
}
