import { createTransport, type Transporter } from "nodemailer";
import * as z from "zod/mini";
import type { ActionsConfig, NotifyChannelConfig } from "../../../config/actions.js";
import { installZodDefaults } from "../../../zod-defaults.js";
import { ToolError } from "../../errors.js";
import { onFirstUse } from "../../first-use.js";
import type { Tool, ToolContext } from "../../types.js";
import type { EgressClient } from "../egress/client.js";
import { actionFailure, isSuccess } from "./http-result.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

const input = onFirstUse(() =>
  z.strictObject({
    /** One channel name, several, or none for every configured channel. */
    channel: z.optional(
      z.union([
        z.string().check(z.minLength(1)),
        z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
      ]),
    ),
    title: z.string().check(z.minLength(1), z.maxLength(500)),
    text: z._default(z.string().check(z.maxLength(20_000)), ""),
    severity: z.optional(z.string().check(z.maxLength(40))),
    link: z.optional(z.url()),
    fields: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))),
  }),
);
type NotifyInput = z.output<ReturnType<typeof input>>;

const output = onFirstUse(() =>
  z.strictObject({
    sent: z.array(z.strictObject({ channel: z.string(), kind: z.string(), detail: z.string() })),
    /** Why nothing was sent, when nothing was configured. */
    skipped: z.optional(z.string()),
  }),
);
type NotifyOutput = z.output<ReturnType<typeof output>>;

export interface NotifyOptions {
  config: Pick<ActionsConfig, "channels" | "smtp">;
  http: EgressClient;
  timeoutMs: number;
  /** A nodemailer transport to use instead of one built from `smtp` (tests, special relays). */
  mailer?: Transporter;
}

/**
 * `notify.send`: tell people about an alert on the configured channels: Slack incoming webhook (Block
 * Kit), Microsoft Teams webhook (Adaptive Card, as Teams Workflows and connectors accept), a generic
 * JSON webhook (signed with HMAC-SHA256 when it has a signingSecret) or email over SMTP. With no
 * channels configured it sends nothing and says so, so a plan's notify step never blocks triage.
 */
export function notifySendTool(options: NotifyOptions): Tool<NotifyInput, NotifyOutput> {
  let mailer = options.mailer;
  return {
    name: "notify.send",
    description:
      "Send a notification (title, text, severity, link, fields) to configured channels: Slack, Microsoft Teams, a generic webhook or email. Without `channel` it goes to every configured channel.",
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    capabilities: ["network.egress"],
    dangerous: true,
    timeoutMs: options.timeoutMs + 2_000,
    async run(message, ctx) {
      const configured = options.config.channels;
      const names = message.channel === undefined ? Object.keys(configured) : [message.channel].flat();
      if (names.length === 0) {
        return {
          sent: [],
          skipped: "no notification channels are configured (actions.channels, AAT_ACTIONS_CHANNELS_JSON)",
        };
      }
      const unknown = names.filter((name) => !(name in configured));
      if (unknown.length > 0) {
        throw new ToolError(
          `unknown notification channel(s) ${unknown.join(", ")}; configured: ${Object.keys(configured).join(", ") || "none"} (actions.channels)`,
          { code: "validation", retryable: false },
        );
      }
      const sent: NotifyOutput["sent"] = [];
      const failures: string[] = [];
      let retryable = false;
      for (const name of names) {
        const channel = configured[name]!;
        try {
          const detail = await send(channel, message, ctx);
          sent.push({ channel: name, kind: channel.kind, detail });
        } catch (error) {
          failures.push(
            `${name} (${channel.kind}): ${error instanceof Error ? error.message : String(error)}`,
          );
          retryable ||= !(error instanceof ToolError) || error.retryable;
        }
      }
      if (failures.length > 0) {
        throw new ToolError(
          `notify.send failed for ${failures.join("; ")}${sent.length > 0 ? ` (sent to ${sent.map((s) => s.channel).join(", ")})` : ""}`,
          { code: "notify_failed", retryable, details: { sent } },
        );
      }
      return { sent };
    },
  };

  async function send(channel: NotifyChannelConfig, message: NotifyInput, ctx: ToolContext): Promise<string> {
    if (channel.kind === "email") return sendEmail(channel, message, ctx);
    const body =
      channel.kind === "slack"
        ? slackBody(message)
        : channel.kind === "teams"
          ? teamsBody(message)
          : webhookBody(message, ctx);
    const json = JSON.stringify(body);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (channel.kind === "webhook") {
      Object.assign(headers, channel.headers, { "idempotency-key": ctx.idempotencyKey });
      if (channel.signingSecret) {
        headers["x-aat-signature"] =
          `sha256=${process.getBuiltinModule("node:crypto").createHmac("sha256", channel.signingSecret).update(json).digest("hex")}`;
      }
    }
    const response = await options.http.send({
      url: channel.url!,
      method: "POST",
      headers,
      body: json,
      signal: ctx.signal,
      timeoutMs: options.timeoutMs,
    });
    // The webhook URL carries the credential: never echo it.
    if (!isSuccess(response)) throw actionFailure(`the ${channel.kind} webhook`, response);
    return `HTTP ${response.status}`;
  }

  async function sendEmail(
    channel: NotifyChannelConfig,
    message: NotifyInput,
    ctx: ToolContext,
  ): Promise<string> {
    const smtp = options.config.smtp;
    if (!mailer) {
      if (!smtp.host) {
        throw new ToolError("an email channel needs actions.smtp.host (AAT_ACTIONS_SMTP_HOST)", {
          code: "configuration",
          retryable: false,
        });
      }
      mailer = createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
      });
    }
    const info = await mailer.sendMail({
      from: smtp.from,
      to: channel.to ?? [],
      subject: `${message.severity ? `[${message.severity}] ` : ""}${message.title}`,
      text: plainText(message),
      headers: { "X-AAT-Idempotency-Key": ctx.idempotencyKey },
    });
    return `accepted by SMTP for ${(info.accepted as unknown[]).length} recipient(s)`;
  }
}

function plainText(message: NotifyInput): string {
  const lines = [message.title, "", message.text];
  if (message.severity) lines.push("", `Severity: ${message.severity}`);
  for (const [key, value] of Object.entries(message.fields ?? {})) lines.push(`${key}: ${value ?? ""}`);
  if (message.link) lines.push("", message.link);
  return lines.join("\n");
}

/** Slack incoming webhook: `text` is the fallback for notifications, `blocks` the message itself. */
function slackBody(message: NotifyInput) {
  const fields = Object.entries(message.fields ?? {}).slice(0, 10);
  return {
    text: `${message.severity ? `[${message.severity}] ` : ""}${message.title}`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: message.title.slice(0, 150) } },
      ...(message.text
        ? [{ type: "section", text: { type: "mrkdwn", text: message.text.slice(0, 3000) } }]
        : []),
      ...(fields.length > 0 || message.severity
        ? [
            {
              type: "section",
              fields: [
                ...(message.severity ? [{ type: "mrkdwn", text: `*Severity*\n${message.severity}` }] : []),
                ...fields.map(([key, value]) => ({ type: "mrkdwn", text: `*${key}*\n${value ?? ""}` })),
              ].slice(0, 10),
            },
          ]
        : []),
      ...(message.link
        ? [{ type: "section", text: { type: "mrkdwn", text: `<${message.link}|Open>` } }]
        : []),
    ],
  };
}

/** Teams webhook (Workflows or connector): a message with one Adaptive Card attachment. */
function teamsBody(message: NotifyInput) {
  const facts = [
    ...(message.severity ? [{ title: "Severity", value: message.severity }] : []),
    ...Object.entries(message.fields ?? {}).map(([title, value]) => ({ title, value: String(value ?? "") })),
  ];
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", size: "Medium", weight: "Bolder", text: message.title, wrap: true },
            ...(message.text ? [{ type: "TextBlock", text: message.text, wrap: true }] : []),
            ...(facts.length > 0 ? [{ type: "FactSet", facts }] : []),
          ],
          ...(message.link
            ? { actions: [{ type: "Action.OpenUrl", title: "Open", url: message.link }] }
            : {}),
        },
      },
    ],
  };
}

function webhookBody(message: NotifyInput, ctx: ToolContext) {
  return {
    title: message.title,
    text: message.text,
    ...(message.severity ? { severity: message.severity } : {}),
    ...(message.link ? { link: message.link } : {}),
    fields: message.fields ?? {},
    runId: ctx.runId,
    idempotencyKey: ctx.idempotencyKey,
  };
}
