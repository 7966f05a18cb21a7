import * as z from "zod/mini";
import type { ActionsConfig, ResponseActionConfig } from "../../../config/actions.js";
import { compileTemplate } from "../../../expr/index.js";
import { installZodDefaults } from "../../../zod-defaults.js";
import { ToolError } from "../../errors.js";
import { onFirstUse } from "../../first-use.js";
import type { Tool, ToolContext, ToolSchema } from "../../types.js";
import type { EgressClient } from "../egress/client.js";
import { actionFailure, isSuccess } from "./http-result.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

type Kind = ResponseActionConfig["kind"];

const inputs = onFirstUse(() => {
  const common = {
    reason: z.string().check(z.minLength(1), z.maxLength(2_000)),
    alertId: z.optional(z.string()),
    /** One configured action by name; every action of this kind when omitted. */
    action: z.optional(z.string()),
  };

  return {
    block_indicator: z.strictObject({
      indicator: z.string().check(z.minLength(1)),
      type: z.enum(["ip", "domain", "url", "hash"]),
      ...common,
    }),
    isolate_host: z.strictObject({ host: z.string().check(z.minLength(1)), ...common }),
    disable_user: z.strictObject({ user: z.string().check(z.minLength(1)), ...common }),
  } as const;
});

const output = onFirstUse(() =>
  z.strictObject({
    kind: z.string(),
    results: z.array(z.strictObject({ action: z.string(), status: z.int(), url: z.string() })),
  }),
);
type ResponseOutput = z.output<ReturnType<typeof output>>;

const DESCRIPTIONS: Record<Kind, string> = {
  block_indicator:
    "Block an indicator (IP, domain, URL or hash) on the configured firewall / proxy / EDR block list.",
  isolate_host: "Isolate a host from the network through the configured EDR action.",
  disable_user: "Disable a user account through the configured identity provider action.",
};

export interface ResponseOptions {
  config: Pick<ActionsConfig, "response">;
  http: EgressClient;
  timeoutMs: number;
}

/**
 * `response.block_indicator`, `response.isolate_host`, `response.disable_user`: containment through
 * operator-defined HTTP calls (actions.response): each configured action of the tool's kind gets its
 * URL, headers and JSON body rendered from `{% %}` templates over the input, and is sent with an
 * Idempotency-Key header so a retried step can be recognised by the receiving API.
 */
export function responseTools(options: ResponseOptions): Tool[] {
  return (Object.keys(DESCRIPTIONS) as Kind[]).map((kind) => responseTool(kind, options));
}

function responseTool(kind: Kind, options: ResponseOptions): Tool {
  const tool: Tool<Record<string, unknown>, ResponseOutput> = {
    name: `response.${kind}`,
    description: `${DESCRIPTIONS[kind]} Dangerous: needs a person's approval.`,
    // Schemas built on first use (../../first-use.ts).
    get input() {
      return inputs()[kind] as unknown as ToolSchema<Record<string, unknown>>;
    },
    get output() {
      return output();
    },
    capabilities: ["network.egress", "response.actions"],
    dangerous: true,
    timeoutMs: options.timeoutMs + 2_000,
    async run(args, ctx) {
      const configured = Object.entries(options.config.response).filter(([, action]) => action.kind === kind);
      const named = typeof args.action === "string" ? args.action : undefined;
      const chosen = named ? configured.filter(([name]) => name === named) : configured;
      if (chosen.length === 0) {
        throw new ToolError(
          named
            ? `no ${kind} action named "${named}" is configured; configured ${kind} actions: ${configured.map(([n]) => n).join(", ") || "none"}`
            : `no ${kind} action is configured: add one with kind "${kind}" under actions.response (AAT_ACTIONS_RESPONSE_JSON, docs/tools.md)`,
          { code: "configuration", retryable: false },
        );
      }
      const data = { ...args, kind, runId: ctx.runId, idempotencyKey: ctx.idempotencyKey };
      const results: ResponseOutput["results"] = [];
      for (const [name, action] of chosen) results.push(await call(name, action, data, ctx));
      return { kind, results };
    },
  };
  return tool as Tool;

  async function call(
    name: string,
    action: ResponseActionConfig,
    data: Record<string, unknown>,
    ctx: ToolContext,
  ): Promise<ResponseOutput["results"][number]> {
    const rendered = await render(name, action, data);
    let target: URL;
    try {
      target = new URL(rendered.url);
    } catch {
      throw new ToolError(
        `response action "${name}": its url rendered to "${rendered.url}", which is not an absolute URL`,
        {
          code: "configuration",
          retryable: false,
        },
      );
    }
    const response = await options.http.send({
      url: target,
      method: action.method,
      headers: { "idempotency-key": `${ctx.idempotencyKey}/${name}`, ...rendered.headers },
      ...(rendered.body !== undefined && action.method !== "GET" ? { json: rendered.body } : {}),
      signal: ctx.signal,
      timeoutMs: options.timeoutMs,
    });
    if (!isSuccess(response)) throw actionFailure(`response action "${name}" (${target.host})`, response);
    ctx.logger.info({ action: name, kind: action.kind, status: response.status }, "response action done");
    return { action: name, status: response.status, url: `${target.origin}${target.pathname}` };
  }
}

async function render(
  name: string,
  action: ResponseActionConfig,
  data: Record<string, unknown>,
): Promise<{ url: string; headers: Record<string, string>; body: unknown }> {
  try {
    const [url, headers, body] = await Promise.all([
      compileTemplate(action.url).evaluate(data),
      compileTemplate(action.headers).evaluate(data),
      action.body === undefined ? undefined : compileTemplate(action.body).evaluate(data),
    ]);
    return {
      url: String(url),
      headers: Object.fromEntries(
        Object.entries(headers as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
      body,
    };
  } catch (error) {
    throw new ToolError(
      `response action "${name}": a template in actions.response.${name} failed: ${error instanceof Error ? error.message : String(error)}`,
      { code: "configuration", retryable: false },
    );
  }
}
