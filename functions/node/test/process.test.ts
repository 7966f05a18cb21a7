import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type ChildRuntime, eventually, getJson, postJson, spawnRuntime, tempDir } from "./support.js";

const SLOW_RUNTIME = fileURLToPath(new URL("./fixtures/slow-runtime.ts", import.meta.url));
const FIXTURE_PLANS = fileURLToPath(new URL("./fixtures/plans", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

const children: ChildRuntime[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const runtime of children.splice(0)) {
    if (runtime.child.exitCode === null && runtime.child.signalCode === null) runtime.child.kill("SIGKILL");
    await runtime.exited;
  }
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function setup(extraEnv: Record<string, string> = {}) {
  const dataDir = await tempDir("process");
  dirs.push(dataDir);
  const toolLog = join(dataDir, "slow-tool.log");
  const env = {
    AAT_DATA_DIR: dataDir,
    AAT_SERVER_PORT: "0",
    AAT_PLANS_DIRS: FIXTURE_PLANS,
    AAT_PLANS_WATCH: "false",
    AAT_AUTH_MODE: "none",
    AAT_AUTH_ALLOW_NONE: "true",
    AAT_LOG_LEVEL: "info",
    SLOW_TOOL_LOG: toolLog,
    ...extraEnv,
  };
  const launch = async () => {
    const runtime = await spawnRuntime(SLOW_RUNTIME, env);
    children.push(runtime);
    return runtime;
  };
  const toolCalls = async () =>
    (await readFile(toolLog, "utf8").catch(() => "")).split("\n").filter((line) => line !== "");
  return { launch, toolCalls };
}

async function startRuns(url: string, count: number, ms: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const created = await postJson(`${url}/v1/runs`, { planId: "test.slow", input: { n, ms } });
    expect(created.status).toBe(202);
    ids.push((created.body as { runId: string }).runId);
  }
  return ids;
}

async function allSucceeded(url: string, runIds: string[]): Promise<Array<{ output?: unknown }>> {
  return eventually(
    async () => {
      const runs = await Promise.all(
        runIds.map(
          async (id) =>
            ((await getJson(`${url}/v1/runs/${id}`)) as { run: { status: string; output?: unknown } }).run,
        ),
      );
      const bad = runs.find((run) => run.status === "failed" || run.status === "cancelled");
      if (bad) throw new Error(`a run ended ${bad.status}: ${JSON.stringify(bad)}`);
      return runs.every((run) => run.status === "succeeded") ? runs : undefined;
    },
    "every run to succeed",
    { attempts: 600, intervalMs: 100 },
  );
}

function countsByKey(calls: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of calls) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

describe("the runtime as a process", () => {
  it("finishes every run after being killed with SIGKILL mid-run and started again on the same data", async () => {
    const { launch, toolCalls } = await setup();
    const first = await launch();
    const runIds = await startRuns(first.url, 8, 400);
    // Kill as soon as a tool call has started: it takes 400 ms, so at least one step is mid-flight.
    await eventually(async () => ((await toolCalls()).length > 0 ? true : undefined), "a tool call to start");
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const callsBeforeKill = await toolCalls();
    expect(callsBeforeKill.length).toBeLessThan(8 * 2);

    const second = await launch();
    // The restarted process found the killed process's unfinished runs and resumed them.
    expect(second.output()).toMatch(/"msg":"resumed [1-8] unfinished run\(s\)"/);
    const runs = await allSucceeded(second.url, runIds);
    expect(runs.map((run) => run.output)).toEqual(runIds.map((_, n) => ({ label: `run ${n}` })));
    // Every run's tool step ran, under one idempotency key per run (re-runs of a killed attempt reuse it).
    const keys = countsByKey(await toolCalls());
    expect([...keys.keys()].map((key) => key.split("/")[0]).sort()).toEqual([...runIds].sort());
  }, 90_000);

  it("on SIGTERM finishes in-flight steps within the grace period and exits 0", async () => {
    const { launch, toolCalls } = await setup({ AAT_SERVER_SHUTDOWN_GRACE_MS: "20000" });
    const first = await launch();
    const runIds = await startRuns(first.url, 4, 300);
    await eventually(async () => ((await toolCalls()).length > 0 ? true : undefined), "a tool call to start");
    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output()).toContain('"msg":"stopped"');
    const callsBeforeExit = await toolCalls();

    const second = await launch();
    await allSucceeded(second.url, runIds);
    // Steps that had started before the SIGTERM finished then: none of them ran again after the restart.
    const counts = countsByKey(await toolCalls());
    for (const key of callsBeforeExit) expect(counts.get(key)).toBe(1);
  }, 90_000);

  it("on SIGTERM releases steps that outlast the grace period, exits 0, and they finish after a restart", async () => {
    const { launch, toolCalls } = await setup({ AAT_SERVER_SHUTDOWN_GRACE_MS: "100" });
    const first = await launch();
    const runIds = await startRuns(first.url, 2, 1500);
    await eventually(async () => ((await toolCalls()).length > 0 ? true : undefined), "a tool call to start");
    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const released = /"releasedClaims":(\d+)/.exec(first.output());
    expect(Number(released?.[1])).toBeGreaterThanOrEqual(1);

    const second = await launch();
    await allSucceeded(second.url, runIds);
  }, 90_000);

  it("refuses to start with invalid configuration, naming the key, and exits 2", async () => {
    const { spawnSync } = await import("node:child_process");
    const result = spawnSync(join(process.cwd(), "node_modules/.bin/tsx"), [MAIN], {
      env: { ...process.env, AAT_SERVER_PORT: "eighty", AAT_QUEUE_KIND: "carrier-pigeon" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("aat cannot start. Invalid configuration (2 problems):");
    expect(result.stderr).toContain('- server.port (env AAT_SERVER_PORT): "eighty" is not a number');
    expect(result.stderr).toMatch(/- queue\.kind \(env AAT_QUEUE_KIND\): .*carrier-pigeon/);
  }, 60_000);
});
