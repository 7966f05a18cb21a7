import * as z from "zod/mini";
import { httpUrl, MAP_KEY_FORM, mapKeyName, positiveInt, setting, text } from "./meta.js";
import { configSection } from "./section.js";

/**
 * The `actions` section: where the response-action tools send things. Notification channels
 * (`notify.send`), the ticket systems (`ticket.create`), the SMTP server for email channels, and the
 * HTTP response actions behind `response.block_indicator`, `response.isolate_host` and
 * `response.disable_user`. Every host named here must be reachable through the SSRF guard: a host at a
 * private or loopback address needs an entry in `http.allowHosts`.
 */

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const NOTIFY_KINDS = ["slack", "teams", "webhook", "email"] as const;
export const RESPONSE_KINDS = ["block_indicator", "isolate_host", "disable_user"] as const;

const notifyChannel = () =>
  z
    .strictObject({
      kind: z.enum(NOTIFY_KINDS),
      /** slack, teams, webhook: the webhook URL (it carries the credential: kept secret). */
      url: z.optional(httpUrl()),
      /** webhook: extra headers. */
      headers: z._default(
        z.record(z.string().check(z.regex(HEADER_NAME, "must be an HTTP header name")), z.string()),
        {},
      ),
      /** webhook: HMAC-SHA256 key; the body's signature goes in X-AAT-Signature: sha256=<hex>. */
      signingSecret: z.optional(text()),
      /** email: recipients. */
      to: z.optional(z.array(z.email())),
    })
    .check(
      z.superRefine((channel, ctx) => {
        if (channel.kind === "email" && (!channel.to || channel.to.length === 0)) {
          ctx.addIssue({
            code: "custom",
            path: ["to"],
            message: "missing, an email channel needs recipients",
          });
        }
        if (channel.kind !== "email" && channel.url === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["url"],
            message: `missing, a ${channel.kind} channel needs its webhook URL`,
          });
        }
      }),
    );

const responseAction = () =>
  z.strictObject({
    kind: z.enum(RESPONSE_KINDS),
    /** May hold `{% %}` templates over the action input, e.g. `https://edr.example.com/hosts/{% host %}/isolate`. */
    url: text(),
    method: z._default(z.enum(["POST", "PUT", "PATCH", "DELETE", "GET"]), "POST"),
    /** Header values may hold templates; a credential belongs here (the whole map is kept secret). */
    headers: z._default(
      z.record(z.string().check(z.regex(HEADER_NAME, "must be an HTTP header name")), z.string()),
      {},
    ),
    /** JSON body; its strings may hold `{% %}` templates. */
    body: z.optional(z.json()),
    description: z.optional(z.string()),
  });

export const actionsSection = configSection("actions", () =>
  z.strictObject({
    channels: setting(z._default(z.record(mapKeyName(), notifyChannel()), {}), {
      env: "AAT_ACTIONS_CHANNELS_JSON",
      mapKey: "name",
      secret: true,
      description:
        "Notification channels for notify.send: Slack incoming webhooks, Microsoft Teams webhooks, generic JSON webhooks (optionally HMAC-signed) and email (through actions.smtp). notify.send without a channel sends to all of them.",
      expected: `a JSON object mapping a channel name (${MAP_KEY_FORM}) to { kind: slack|teams|webhook|email, url, headers, signingSecret, to }`,
      example: '{"soc":{"kind":"slack","url":"https://hooks.slack.com/services/T000/B000/XXXX"}}',
    }),
    smtp: configSection("actions.smtp", () =>
      z.strictObject({
        host: setting(z.optional(text()), {
          env: "AAT_ACTIONS_SMTP_HOST",
          description: "SMTP server for email channels.",
          example: "smtp.example.com",
        }),
        port: setting(z._default(positiveInt().check(z.maximum(65_535)), 587), {
          env: "AAT_ACTIONS_SMTP_PORT",
          description: "SMTP port (587 submission with STARTTLS, 465 implicit TLS).",
        }),
        secure: setting(z._default(z.boolean(), false), {
          env: "AAT_ACTIONS_SMTP_SECURE",
          description:
            "Implicit TLS from the first byte (port 465); otherwise STARTTLS when the server offers it.",
        }),
        user: setting(z.optional(text()), { env: "AAT_ACTIONS_SMTP_USER", description: "SMTP user name." }),
        pass: setting(z.optional(text()), {
          env: "AAT_ACTIONS_SMTP_PASS",
          description: "SMTP password.",
          secret: true,
        }),
        from: setting(z._default(text(), "aat@localhost"), {
          env: "AAT_ACTIONS_SMTP_FROM",
          description: "Sender address of notification emails.",
        }),
      }),
    ),
    jira: configSection("actions.jira", () =>
      z.strictObject({
        baseUrl: setting(z.optional(httpUrl()), {
          env: "AAT_ACTIONS_JIRA_BASE_URL",
          description: "Jira site URL; ticket.create with system jira creates issues there (REST API v2).",
          example: "https://example.atlassian.net",
        }),
        email: setting(z.optional(text()), {
          env: "AAT_ACTIONS_JIRA_EMAIL",
          description: "Jira account email (basic auth with the API token).",
        }),
        apiToken: setting(z.optional(text()), {
          env: "AAT_ACTIONS_JIRA_API_TOKEN",
          description: "Jira API token.",
          secret: true,
        }),
        project: setting(z.optional(text()), {
          env: "AAT_ACTIONS_JIRA_PROJECT",
          description: "Project key new issues go to.",
          example: "SEC",
        }),
        issueType: setting(z._default(text(), "Task"), {
          env: "AAT_ACTIONS_JIRA_ISSUE_TYPE",
          description: "Issue type name of new issues.",
        }),
      }),
    ),
    servicenow: configSection("actions.servicenow", () =>
      z.strictObject({
        instanceUrl: setting(z.optional(httpUrl()), {
          env: "AAT_ACTIONS_SERVICENOW_INSTANCE_URL",
          description:
            "ServiceNow instance URL; ticket.create with system servicenow creates records there (Table API).",
          example: "https://example.service-now.com",
        }),
        user: setting(z.optional(text()), {
          env: "AAT_ACTIONS_SERVICENOW_USER",
          description: "ServiceNow user (basic auth).",
        }),
        password: setting(z.optional(text()), {
          env: "AAT_ACTIONS_SERVICENOW_PASSWORD",
          description: "ServiceNow password.",
          secret: true,
        }),
        table: setting(z._default(text(), "incident"), {
          env: "AAT_ACTIONS_SERVICENOW_TABLE",
          description: "Table new records go to.",
        }),
      }),
    ),
    response: setting(z._default(z.record(mapKeyName(), responseAction()), {}), {
      env: "AAT_ACTIONS_RESPONSE_JSON",
      mapKey: "name",
      secret: true,
      description:
        "HTTP response actions: what response.block_indicator, response.isolate_host and response.disable_user call (a firewall, EDR or identity provider API). url, header values and body strings may hold {% %} templates over the tool input (indicator, type, host, user, reason, alertId, runId).",
      expected: `a JSON object mapping an action name (${MAP_KEY_FORM}) to { kind: block_indicator|isolate_host|disable_user, url, method, headers, body, description }`,
      example:
        '{"firewall":{"kind":"block_indicator","url":"https://fw.example.com/api/blocklist","headers":{"Authorization":"Bearer TOKEN"},"body":{"value":"{% indicator %}","comment":"{% reason %}"}}}',
    }),
  }),
);

export type ActionsConfig = z.output<typeof actionsSection>;
export type NotifyChannelConfig = z.output<ReturnType<typeof notifyChannel>>;
export type ResponseActionConfig = z.output<ReturnType<typeof responseAction>>;
