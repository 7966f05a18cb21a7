import * as z from "zod/mini";
import type { ActionsConfig } from "../../../config/actions.js";
import { installZodDefaults } from "../../../zod-defaults.js";
import { ToolError } from "../../errors.js";
import { onFirstUse } from "../../first-use.js";
import type { Tool } from "../../types.js";
import type { EgressClient } from "../egress/client.js";
import { actionFailure, isSuccess } from "./http-result.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

const SEVERITIES = ["Unknown", "Informational", "Low", "Medium", "High", "Critical", "Fatal"] as const;

const input = onFirstUse(() =>
  z.strictObject({
    /** Which ticket system; the configured one when omitted (Jira first when both are). */
    system: z.optional(z.enum(["jira", "servicenow"])),
    summary: z.string().check(z.minLength(1), z.maxLength(255)),
    description: z._default(z.string().check(z.maxLength(30_000)), ""),
    severity: z.optional(z.enum(SEVERITIES)),
    labels: z.optional(
      z.array(z.string().check(z.regex(/^\S+$/, "labels may not contain spaces"))).check(z.maxLength(20)),
    ),
  }),
);
type TicketInput = z.output<ReturnType<typeof input>>;

const output = onFirstUse(() =>
  z.strictObject({
    system: z.enum(["jira", "servicenow"]),
    /** Jira issue id or ServiceNow sys_id. */
    id: z.string(),
    /** Jira issue key (SEC-12) or ServiceNow number (INC0010001). */
    key: z.string(),
    url: z.string(),
  }),
);
type TicketOutput = z.output<ReturnType<typeof output>>;

export interface TicketOptions {
  config: Pick<ActionsConfig, "jira" | "servicenow">;
  http: EgressClient;
  timeoutMs: number;
}

/** OCSF severity → ServiceNow urgency/impact (1 high … 3 low). */
const SNOW_LEVEL: Record<(typeof SEVERITIES)[number], string> = {
  Unknown: "3",
  Informational: "3",
  Low: "3",
  Medium: "2",
  High: "1",
  Critical: "1",
  Fatal: "1",
};

/**
 * `ticket.create`: open a ticket for an alert. Jira: `POST {baseUrl}/rest/api/2/issue` (basic auth with
 * email and API token; the v2 API takes a plain-text description). ServiceNow: `POST
 * {instanceUrl}/api/now/table/{table}` (basic auth), urgency and impact from the severity.
 */
export function ticketCreateTool(options: TicketOptions): Tool<TicketInput, TicketOutput> {
  const { jira, servicenow } = options.config;
  const jiraReady = Boolean(jira.baseUrl && jira.email && jira.apiToken && jira.project);
  const snowReady = Boolean(servicenow.instanceUrl && servicenow.user && servicenow.password);
  return {
    name: "ticket.create",
    description:
      "Open a ticket in Jira or ServiceNow with a summary, description, severity and labels; returns the ticket key and URL.",
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    capabilities: ["network.egress"],
    dangerous: true,
    timeoutMs: options.timeoutMs + 2_000,
    async run(ticket, ctx) {
      const system = ticket.system ?? (jiraReady ? "jira" : snowReady ? "servicenow" : undefined);
      if (
        system === undefined ||
        (system === "jira" && !jiraReady) ||
        (system === "servicenow" && !snowReady)
      ) {
        throw new ToolError(
          system === "servicenow"
            ? "ServiceNow is not configured: set actions.servicenow.instanceUrl, user and password"
            : system === "jira"
              ? "Jira is not configured: set actions.jira.baseUrl, email, apiToken and project"
              : "no ticket system is configured: set actions.jira.* or actions.servicenow.* (docs/tools.md)",
          { code: "configuration", retryable: false },
        );
      }
      if (system === "jira") {
        const base = jira.baseUrl!.replace(/\/$/, "");
        const response = await options.http.send({
          url: `${base}/rest/api/2/issue`,
          method: "POST",
          headers: { authorization: basic(jira.email!, jira.apiToken!) },
          json: {
            fields: {
              project: { key: jira.project },
              issuetype: { name: jira.issueType },
              summary: ticket.summary,
              description: ticket.description,
              labels: [
                ...(ticket.labels ?? []),
                ...(ticket.severity ? [`severity-${ticket.severity.toLowerCase()}`] : []),
              ],
            },
          },
          signal: ctx.signal,
          timeoutMs: options.timeoutMs,
        });
        if (!isSuccess(response)) throw actionFailure("Jira", response);
        const created = z.object({ id: z.string(), key: z.string() }).safeParse(response.json);
        if (!created.success)
          throw new ToolError("Jira answered without the new issue's id and key", {
            code: "upstream_invalid",
          });
        return {
          system,
          id: created.data.id,
          key: created.data.key,
          url: `${base}/browse/${created.data.key}`,
        };
      }
      const base = servicenow.instanceUrl!.replace(/\/$/, "");
      const level = SNOW_LEVEL[ticket.severity ?? "Unknown"];
      const response = await options.http.send({
        url: `${base}/api/now/table/${encodeURIComponent(servicenow.table)}`,
        method: "POST",
        headers: { authorization: basic(servicenow.user!, servicenow.password!) },
        json: {
          short_description: ticket.summary,
          description: ticket.description,
          urgency: level,
          impact: level,
          category: "security",
          ...(ticket.labels && ticket.labels.length > 0
            ? { work_notes: `labels: ${ticket.labels.join(", ")}` }
            : {}),
        },
        signal: ctx.signal,
        timeoutMs: options.timeoutMs,
      });
      if (!isSuccess(response)) throw actionFailure("ServiceNow", response);
      const created = z
        .object({ result: z.object({ sys_id: z.string(), number: z.string() }) })
        .safeParse(response.json);
      if (!created.success)
        throw new ToolError("ServiceNow answered without result.sys_id and number", {
          code: "upstream_invalid",
        });
      const { sys_id, number } = created.data.result;
      return {
        system,
        id: sys_id,
        key: number,
        url: `${base}/nav_to.do?uri=${encodeURIComponent(`${servicenow.table}.do?sys_id=${sys_id}`)}`,
      };
    },
  };
}

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;
}
