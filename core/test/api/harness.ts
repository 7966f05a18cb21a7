import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  type AatConfig,
  ApiKeyStore,
  type ApiLogger,
  AuditLog,
  aatConfigSchema,
  createApiApp,
  createRunner,
  EnvSecrets,
  KvPlanRepository,
  ManualClock,
  Planner,
  type Role,
  RunEventHub,
  type Tool,
  ToolRegistry,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { z } from "zod";

/** Plans every API test can use. */
export const PLANS = {
  approve: `
id: demo.approve
workflow: automation
title: Ask before acting
steps:
  - id: prepare
    type: set
    values: { host: "{% input.host %}" }
  - id: ask
    type: approval
    approvers: [role:responder]
    message: "Contain {% steps.prepare.output.host %}?"
  - id: done
    type: set
    values: { contained: "{% steps.prepare.output.host %}" }
`,
  review: `
id: demo.review
workflow: automation
title: Ask once per item
steps:
  - id: review
    type: map
    items: input.items
    steps:
      - id: ask
        type: approval
        message: "Review {% item %}"
`,
  inputs: `
id: demo.inputs
workflow: alerts
title: Needs an ip
inputs:
  type: object
  properties:
    ip: { type: string, minLength: 7 }
  required: [ip]
match:
  - event: alert.received
    when: "severity = 'high'"
steps:
  - id: echo
    type: set
    values: { ip: "{% input.ip %}" }
`,
  hook: `
id: demo.hook
workflow: alerts
title: Signed webhook
triggers:
  - type: webhook
    secret: demo-hook
  - type: webhook
    id: demo-open
steps:
  - id: echo
    type: set
    values: { got: "{% input.alert %}" }
`,
  tools: `
id: demo.tools
workflow: automation
title: Calls a tool, then waits, then asks an agent
steps:
  - id: lookup
    type: tool
    tool: test.count
    with: { label: "{% input.label %}" }
  - id: pause
    type: wait
    duration: 5m
  - id: judge
    type: agent
    prompt: "Judge {% steps.lookup.output.label %}"
    output: { type: object, properties: { verdict: { type: string } }, required: [verdict] }
  - id: report
    type: set
    values:
      verdict: "{% steps.judge.output.verdict %}"
      count: "{% steps.lookup.output.count %}"
`,
};

export const HOOK_SECRET = "s3cret-for-tests";

export interface TestApiOptions {
  config?: Record<string, unknown>;
  plans?: string[];
  authMode?: "apiKey" | "none";
  sse?: { pollMs?: number; heartbeatMs?: number };
}

/** A complete API on memory adapters, with one key per role and a worker tests drain by hand. */
export async function makeApi(options: TestApiOptions = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const kv = new MemoryKeyValue({ clock });
  const queue = new MemoryQueue<WorkMessage>({ name: `api-${crypto.randomUUID()}`, clock });
  const counter: Tool<{ label: string }, { label: string; count: number }> = {
    name: "test.count",
    description: "Counts",
    input: z.object({ label: z.string() }),
    output: z.object({ label: z.string(), count: z.number() }),
    run: async (input) => ({ label: input.label, count: 1 }),
  };
  const tools = new ToolRegistry([counter]);
  const plans = new KvPlanRepository(kv, { tools, clock });
  for (const text of options.plans ?? Object.values(PLANS)) await plans.publish(text);
  const events = new RunEventHub();
  const runner = createRunner({ kv, queue, plans, services: { tools }, clock, onEvent: events.publish });
  const worker = new Worker(runner, queue);
  const keys = new ApiKeyStore(kv, clock);
  const auditLog = new AuditLog(kv, clock);
  const config: AatConfig = aatConfigSchema.parse(options.config ?? {});
  const logged: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const logger: ApiLogger = {
    error: (fields, message) => logged.push({ level: "error", fields, message }),
    warn: (fields, message) => logged.push({ level: "warn", fields, message }),
  };
  const app = createApiApp({
    runner,
    plans,
    planner: new Planner(plans),
    kv,
    queue,
    auth: { keys, mode: options.authMode ?? "apiKey" },
    auditLog,
    config,
    clock,
    secrets: new EnvSecrets({ AAT_SECRET_DEMO_HOOK: HOOK_SECRET }),
    scratch: () => ({
      kv: new MemoryKeyValue({ clock }),
      queue: new MemoryQueue<WorkMessage>({ name: `dry-${crypto.randomUUID()}`, clock }),
    }),
    version: "0.0.0-test",
    events,
    logger,
    checks: { tools },
    sse: options.sse ?? { pollMs: 50, heartbeatMs: 10_000 },
  });
  const roleKeys = {} as Record<Role, string>;
  for (const role of ["admin", "responder", "analyst", "developer", "viewer"] as const) {
    roleKeys[role] = (await keys.create({ name: role, roles: [role], createdBy: "test" })).key;
  }

  /** Send a request as `role` (or with no credentials when role is undefined). */
  async function call(
    method: string,
    path: string,
    init: { role?: Role; json?: unknown; body?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.role) headers.authorization = `Bearer ${roleKeys[init.role]}`;
    let body: string | undefined = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers["content-type"] ??= "application/json";
    }
    return app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  }

  return {
    app,
    kv,
    queue,
    runner,
    worker,
    plans,
    clock,
    keys,
    auditLog,
    events,
    logged,
    roleKeys,
    call,
    config,
  };
}

export type TestApi = Awaited<ReturnType<typeof makeApi>>;

/** Parsed JSON body with its status, for compact assertions. */
export async function json(
  response: Response,
): Promise<{ status: number; body: Record<string, unknown>; type: string }> {
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    type: response.headers.get("content-type") ?? "",
  };
}
