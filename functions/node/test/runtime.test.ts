import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { aatConfigSchema, type Tool } from "@aat/core";
import { offlineVerdictPlan } from "@aat/core/testing";
import { type NodeRuntime, startNodeRuntime, UnsupportedBackendError } from "@aat/functions-node";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { capturingLogger, eventually, getJson, postJson, tempDir, testConfig } from "./support.js";

const started: NodeRuntime[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const runtime of started.splice(0)) await runtime.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function start(options: { dataDir?: string; siteDir?: string; auth?: Record<string, unknown> } = {}) {
  const dataDir = options.dataDir ?? (await tempDir("runtime"));
  if (!options.dataDir) dirs.push(dataDir);
  const printed: string[] = [];
  const { logger, lines } = capturingLogger();
  const runtime = await startNodeRuntime({
    config: testConfig({ dataDir, ...(options.auth ? { auth: options.auth } : {}) }),
    logger,
    print: (text) => printed.push(text),
    siteDir: options.siteDir ?? join(dataDir, "no-site-here"),
  });
  started.push(runtime);
  return { runtime, printed, lines, dataDir };
}

interface RunView {
  run: { runId: string; status: string; output?: unknown };
}

describe("startNodeRuntime (role all, SQLite under a temp dataDir)", () => {
  it("serves /readyz, prints the first admin key once, and runs the demo plan through the API", async () => {
    const { runtime, printed } = await start();
    expect(runtime.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(printed[0]).toContain(`is listening on ${runtime.url}`);

    const ready = await fetch(`${runtime.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { kv: "ok", queue: "ok" } });

    expect(runtime.bootstrap?.status).toBe("generated");
    const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
    expect(printed.join("\n")).toContain(`Admin API key: ${key}`);
    const auth = { authorization: `Bearer ${key}` };

    const refused = await postJson(`${runtime.url}/v1/runs`, { planId: "automation.hello" });
    expect(refused.status).toBe(401);

    const created = await postJson(
      `${runtime.url}/v1/runs`,
      { planId: "automation.hello", input: { names: ["Ada", "Grace"] } },
      auth,
    );
    expect(created.status).toBe(202);
    const { runId } = created.body as { runId: string };
    const done = await eventually(async () => {
      const view = (await getJson(`${runtime.url}/v1/runs/${runId}`, auth)) as RunView;
      return view.run.status === "succeeded" ? view : undefined;
    }, "the hello run to succeed");
    expect(done.run.output).toEqual({
      greetings: ["Hello, Ada.", "Hello, Grace."],
      summary: "Greeted 2 people, a small group; the longest name is Grace.",
    });

    // The plan came from plans/ through the directory sync into the KV store.
    const plans = (await getJson(`${runtime.url}/v1/plans`, auth)) as { items: Array<{ id: string }> };
    expect(plans.items.map((p) => p.id)).toContain("automation.hello");
    expect(await getJson(`${runtime.url}/v1/schedules`, auth)).toEqual({ items: [] });
    const openapi = (await getJson(`${runtime.url}/v1/openapi.json`)) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toContain("/v1/schedules");
  });

  it("offers the built-in tools to published plans: script.js, notes and plan.run", async () => {
    const { runtime } = await start();
    const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
    const auth = { authorization: `Bearer ${key}` };
    const plan = `id: test.builtins
workflow: automation
title: Built-in tools
capabilities: [plan.run]
steps:
  - id: score
    type: tool
    tool: script.js
    with:
      code: "function main(input) { return { score: input.hits * 10 } }"
      input: { hits: "{% input.hits %}" }
  - id: remember
    type: tool
    tool: notes.put
    with: { key: score, value: "{% steps.score.output.score %}" }
  - id: recall
    type: tool
    tool: notes.get
    with: { key: score }
  - id: child
    type: tool
    tool: plan.run
    with: { planId: automation.hello, input: { names: [Ada] } }
`;
    const published = await fetch(`${runtime.url}/v1/plans/test.builtins`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/yaml" },
      body: plan,
    });
    expect(published.status, await published.clone().text()).toBeLessThan(300);
    const created = await postJson(
      `${runtime.url}/v1/runs`,
      { planId: "test.builtins", input: { hits: 7 } },
      auth,
    );
    expect(created.status).toBe(202);
    const { runId } = created.body as { runId: string };
    const done = await eventually(async () => {
      const view = (await getJson(`${runtime.url}/v1/runs/${runId}`, auth)) as {
        run: { status: string; steps: Record<string, { output?: unknown }> };
      };
      return view.run.status === "succeeded" || view.run.status === "failed" ? view : undefined;
    }, "the built-in tools run to finish");
    expect(done.run.status, JSON.stringify(done.run.steps)).toBe("succeeded");
    expect(done.run.steps.score?.output).toEqual({ score: 70 });
    expect(done.run.steps.recall?.output).toMatchObject({ value: 70 });
    expect(done.run.steps.child?.output).toMatchObject({ status: expect.any(String) });
  });

  it("runs agent steps on the offline model when no provider is configured, and says so", async () => {
    const { runtime } = await start();
    const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
    const auth = { authorization: `Bearer ${key}` };
    const plan = offlineVerdictPlan("test.offline", "Offline verdict");
    const published = await fetch(`${runtime.url}/v1/plans/test.offline`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/yaml" },
      body: plan,
    });
    expect(published.status, await published.clone().text()).toBeLessThan(300);
    const created = await postJson(
      `${runtime.url}/v1/runs`,
      { planId: "test.offline", input: { score: 92 } },
      auth,
    );
    const { runId } = created.body as { runId: string };
    const done = await eventually(async () => {
      const view = (await getJson(`${runtime.url}/v1/runs/${runId}`, auth)) as {
        run: { status: string; output?: { verdict?: string; rationale?: string } };
      };
      return view.run.status === "succeeded" || view.run.status === "failed" ? view : undefined;
    }, "the offline agent run to finish");
    expect(done.run.status, JSON.stringify(done.run)).toBe("succeeded");
    expect(done.run.output?.verdict).toBe("malicious");
    expect(done.run.output?.rationale).toMatch(/offline model/i);
  });

  it("keeps runs, plans and keys across a restart and does not print the key again", async () => {
    const first = await start();
    const key = first.runtime.bootstrap?.status === "generated" ? first.runtime.bootstrap.key : "";
    const auth = { authorization: `Bearer ${key}` };
    const created = await postJson(`${first.runtime.url}/v1/runs`, { planId: "automation.hello" }, auth);
    const { runId } = created.body as { runId: string };
    await first.runtime.stop();

    const second = await start({ dataDir: first.dataDir });
    expect(second.runtime.bootstrap?.status).toBe("existing");
    expect(second.printed.join("\n")).not.toContain("Admin API key");
    const view = (await getJson(`${second.runtime.url}/v1/runs/${runId}`, auth)) as RunView;
    expect(view.run.status).toBe("succeeded");
    // The unchanged plan file published nothing new.
    const versions = (await getJson(`${second.runtime.url}/v1/plans/automation.hello`, auth)) as {
      versions: unknown[];
    };
    expect(versions.versions).toHaveLength(1);
  });

  it("creates the first admin key only once the port is bound, so a failed start never swallows it", async () => {
    const holder = await start();
    const dataDir = await tempDir("runtime");
    dirs.push(dataDir);
    const failure = await startNodeRuntime({
      config: testConfig({ dataDir, server: { port: holder.runtime.port } }),
      logger: capturingLogger().logger,
      print: () => {},
    }).catch((error: unknown) => error);
    expect(String(failure)).toContain(`port ${holder.runtime.port} on 127.0.0.1 is already in use`);

    const retry = await start({ dataDir });
    expect(retry.runtime.bootstrap?.status).toBe("generated");
    expect(retry.printed.join("\n")).toContain("Admin API key: aat_");
  });

  it("serves a small page at / without a site build, and the site's files when there is one", async () => {
    const bare = await start();
    const page = await fetch(`${bare.runtime.url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('href="/v1/openapi.json"');
    expect(html).toContain('href="/healthz"');
    const missing = await fetch(`${bare.runtime.url}/nothing/here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");

    const siteDir = await tempDir("site");
    dirs.push(siteDir);
    await mkdir(join(siteDir, "alerts"));
    await writeFile(join(siteDir, "index.html"), "<h1>the site</h1>");
    await writeFile(join(siteDir, "alerts", "index.html"), "<h1>alerts</h1>");
    const withSite = await start({ siteDir });
    expect(await (await fetch(`${withSite.runtime.url}/`)).text()).toBe("<h1>the site</h1>");
    expect(await (await fetch(`${withSite.runtime.url}/alerts/`)).text()).toBe("<h1>alerts</h1>");
    expect((await fetch(`${withSite.runtime.url}/healthz`)).status).toBe(200);
  });

  it("warns loudly when authentication is switched off, and lets calls in", async () => {
    const { runtime, printed, lines } = await start({ auth: { mode: "none", allowNone: true } });
    expect(printed.join("\n")).toContain("WARNING: authentication is OFF");
    expect(
      lines.some((line) => line.level === 40 && String(line.msg).includes("authentication is OFF")),
    ).toBe(true);
    expect(runtime.bootstrap).toBeUndefined();
    const created = await postJson(`${runtime.url}/v1/runs`, { planId: "automation.hello" });
    expect(created.status).toBe(202);
  });

  it("refuses backends whose adapter is not built yet, naming the package and the fix", async () => {
    const dataDir = await tempDir("runtime");
    dirs.push(dataDir);
    const config = aatConfigSchema.parse({
      dataDir,
      server: { port: 0 },
      queue: {
        kind: "servicebus",
        servicebus: {
          connectionString:
            "Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=s",
        },
      },
    });
    const failure = await startNodeRuntime({
      config,
      logger: capturingLogger().logger,
      print: () => {},
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnsupportedBackendError);
    expect((failure as Error).message).toBe(
      'queue kind "servicebus" needs the @aat/adapter-servicebus package, which is not built yet; set AAT_QUEUE_KIND to sqlite, memory, nats, rabbitmq, sqs or pubsub (sqlite is the embedded default, one file under dataDir)',
    );
  });

  it("runs on memory stores too", async () => {
    const dataDir = await tempDir("runtime");
    dirs.push(dataDir);
    const config = aatConfigSchema.parse({
      dataDir,
      server: { port: 0 },
      kv: { kind: "memory" },
      queue: { kind: "memory" },
      auth: { mode: "none", allowNone: true },
      plans: { directories: [testConfig({ dataDir }).plans.directories[0]], watch: false },
    });
    const printed: string[] = [];
    const runtime = await startNodeRuntime({
      config,
      logger: capturingLogger().logger,
      print: (t) => printed.push(t),
    });
    started.push(runtime);
    expect(printed.join("\n")).toContain("kv memory, queue memory, nothing is kept after the process ends");
    const created = await postJson(`${runtime.url}/v1/runs`, { planId: "automation.hello" });
    expect(created.body).toMatchObject({ status: "succeeded" });
  });

  it("fires schedule triggers of the synced plans and shows them at /v1/schedules", async () => {
    const dataDir = await tempDir("runtime");
    dirs.push(dataDir);
    const plansDir = join(dataDir, "plans");
    await mkdir(plansDir);
    await writeFile(
      join(plansDir, "tick.yaml"),
      `id: ops.tick
workflow: automation
title: Every second
triggers:
  - type: schedule
    cron: "* * * * * *"
    input: { from: schedule }
steps:
  - id: note
    type: set
    values: { from: "{% input.from %}" }
`,
    );
    const runtime = await startNodeRuntime({
      config: testConfig({ dataDir, plans: [plansDir], auth: { mode: "none", allowNone: true } }),
      logger: capturingLogger().logger,
      print: () => {},
      tuning: { schedulerMaxSleepMs: 200 },
    });
    started.push(runtime);
    const fired = await eventually(async () => {
      const { items } = (await getJson(`${runtime.url}/v1/schedules`)) as {
        items: Array<{ planId: string; next: unknown[]; last?: { runId: string; status: string } }>;
      };
      return items[0]?.last?.status === "started" ? items[0] : undefined;
    }, "a scheduled run");
    expect(fired.planId).toBe("ops.tick");
    expect(fired.next).toHaveLength(3);
    const view = (await getJson(
      `${runtime.url}/v1/runs/${encodeURIComponent(fired.last!.runId)}`,
    )) as RunView;
    expect(view.run.status).toBe("succeeded");
    expect(view.run.output).toEqual({ from: "schedule" });
  });

  it("logs each step message the worker handles with its runId and stepKey", async () => {
    const dataDir = await tempDir("runtime");
    dirs.push(dataDir);
    const plansDir = join(dataDir, "plans");
    await mkdir(plansDir);
    await writeFile(
      join(plansDir, "echo.yaml"),
      `id: ops.echo
workflow: automation
title: One tool call
steps:
  - id: call
    type: tool
    tool: test.echo
    with: { text: hi }
`,
    );
    const echo: Tool<{ text: string }, { text: string }> = {
      name: "test.echo",
      description: "Echoes its text",
      input: z.object({ text: z.string() }),
      run: async (input) => input,
    };
    const { logger, lines } = capturingLogger();
    const runtime = await startNodeRuntime({
      config: testConfig({ dataDir, plans: [plansDir], auth: { mode: "none", allowNone: true } }),
      tools: [echo],
      logger,
      print: () => {},
    });
    started.push(runtime);
    const created = await postJson(`${runtime.url}/v1/runs`, { planId: "ops.echo" });
    const { runId } = created.body as { runId: string };
    const line = await eventually(
      async () => lines.find((l) => l.runId === runId && l.outcome === "executed"),
      "the worker's log line",
    );
    expect(line).toMatchObject({ runId, stepKey: "call", attempt: 1, msg: "step message executed" });
  });

  it("a worker-only process serves no HTTP but executes and reconciles", async () => {
    const dataDir = await tempDir("runtime");
    dirs.push(dataDir);
    const printed: string[] = [];
    const runtime = await startNodeRuntime({
      config: testConfig({ dataDir }),
      role: "worker",
      logger: capturingLogger().logger,
      print: (t) => printed.push(t),
    });
    started.push(runtime);
    expect(runtime.url).toBeUndefined();
    expect(printed[0]).toContain("(role worker) is working");
    const { state } = await runtime.runner.start({ planId: "automation.hello" });
    expect(state.status).toBe("succeeded");
  });
});
