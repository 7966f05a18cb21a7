import { rm } from "node:fs/promises";
import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingServer } from "../../../core/test/tools/alerts/recording-server.js";
import {
  capturingLogger,
  eventually,
  getJson,
  postJson,
  REPO_ROOT,
  SHIPPED_PLANS,
  tempDir,
} from "./support.js";

interface RunView {
  run: { runId: string; status: string; output?: Record<string, unknown> };
}

let runtime: NodeRuntime;
let recorder: RecordingServer;
let dataDir: string;
let auth: Record<string, string>;

beforeAll(async () => {
  recorder = await new RecordingServer().route(() => ({ body: { ok: true } })).start();
  dataDir = await tempDir("alert-triage");
  const config = aatConfigSchema.parse({
    dataDir,
    server: { port: 0 },
    plans: { directories: [SHIPPED_PLANS], watch: false },
    http: { allowHosts: ["127.0.0.1"] },
    threatintel: { feeds: [join(REPO_ROOT, "examples/threatintel/sample-feed.csv")] },
    actions: {
      channels: { soc: { kind: "webhook", url: `${recorder.url}/notify` } },
      response: {
        firewall: {
          kind: "block_indicator",
          url: `${recorder.url}/fw/block`,
          body: { value: "{% indicator %}" },
        },
      },
    },
  });
  runtime = await startNodeRuntime({
    config,
    logger: capturingLogger().logger,
    print: () => {},
    siteDir: join(dataDir, "none"),
  });
  const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  auth = { authorization: `Bearer ${key}` };
});

afterAll(async () => {
  await runtime?.stop();
  await recorder?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function runUntil(runId: string, statuses: string[]): Promise<RunView["run"]> {
  return eventually(
    async () => {
      const view = (await getJson(`${runtime.url}/v1/runs/${runId}`, auth)) as RunView;
      return statuses.includes(view.run.status) ? view.run : undefined;
    },
    `run ${runId} to reach ${statuses.join(" or ")}`,
  );
}

describe("alert triage on the node runtime: the shipped plans, the configured tools, the API", () => {
  it("a malicious IP waits for approval through the API, then the firewall action and the notification are sent", async () => {
    const alert = {
      id: "alert-rt-1",
      title: "Outbound connection to a known C2",
      severity_id: 3,
      severity: "Medium",
      finding_info: { uid: "f-rt-1", types: [] },
      metadata: { product: { name: "Generic" } },
      observables: [{ type: "ip", value: "198.51.100.23" }],
    };
    const created = await postJson(
      `${runtime.url}/v1/runs`,
      { planId: "alerts.triage", input: { alert } },
      auth,
    );
    expect(created.status).toBe(202);
    const { runId } = created.body as { runId: string };
    await runUntil(runId, ["waiting"]);
    expect(recorder.requests.filter((r) => r.url === "/fw/block")).toHaveLength(0);
    const approved = await postJson(
      `${runtime.url}/v1/runs/${runId}/steps/approve_containment/approve`,
      {},
      auth,
    );
    expect(approved.status).toBeLessThan(300);
    const run = await runUntil(runId, ["succeeded", "failed"]);
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({ verdict: "true_positive", resolution: "true_positive_contained" });
    expect(recorder.requests.filter((r) => r.url === "/fw/block").map((r) => r.json)).toEqual([
      { value: "198.51.100.23" },
    ]);
    expect(recorder.requests.find((r) => r.url === "/notify")?.json).toMatchObject({
      title: "True positive: Outbound connection to a known C2",
    });
  });
});
