import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { aatConfigSchema, signWebhook } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingServer } from "../../../core/test/tools/alerts/recording-server.js";
import { capturingLogger, eventually, REPO_ROOT, SHIPPED_PLANS, tempDir } from "./support.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in this test.
type J = any;

const admin = { authorization: "Bearer aat_alertflow_0123456789abcdef0123456789abcdef" };
let runtime: NodeRuntime;
let recorder: RecordingServer;
let dataDir: string;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: J }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { ...admin, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : text };
}

beforeAll(async () => {
  recorder = await new RecordingServer().route(() => ({ body: { ok: true } })).start();
  dataDir = await tempDir("alert-flow");
  // No threatintel section: the embedded default brings the shipped sample feed.
  const config = aatConfigSchema.parse({
    dataDir,
    server: { port: 0 },
    plans: { directories: [SHIPPED_PLANS], watch: false },
    auth: { mode: "apiKey", bootstrapAdminKey: admin.authorization.slice(7) },
    http: { allowHosts: ["127.0.0.1"] },
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
  runtime = await startNodeRuntime({ config, logger: capturingLogger().logger, print: () => {} });
});

afterAll(async () => {
  await runtime?.stop();
  await recorder?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("alerts end to end with the shipped plans and the default sample feed", () => {
  it("the generic sample through POST /v1/webhooks/:sourceId waits for approval, the block reaches the firewall, the alert resolves", async () => {
    const created = await api("POST", "/v1/alert-sources", {
      id: "flow",
      format: "generic",
      auth: { mode: "hmac" },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const body = readFileSync(join(REPO_ROOT, "examples/alerts/generic.json"), "utf8");
    const delivered = await fetch(`${runtime.url}/v1/webhooks/flow`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-AAT-Signature": signWebhook(created.json.secret, body, Math.floor(Date.now() / 1000)),
      },
      body,
    });
    const answer = (await delivered.json()) as J;
    expect(delivered.status, JSON.stringify(answer)).toBe(202);
    const { id, runId } = answer.alerts[0];

    await eventually(
      async () =>
        (await api("GET", `/v1/alerts/${id}`)).json.status === "awaiting_approval" ? true : undefined,
      "awaiting_approval",
    );
    expect(recorder.requests.filter((r) => r.url === "/fw/block")).toHaveLength(0);
    // While the run waits for a person, the alert already shows what the lookups found.
    const waiting = (await api("GET", `/v1/alerts/${id}`)).json;
    expect(waiting.enrichment["http://malware.example.com/payload.exe"]).toMatchObject({
      verdict: "malicious",
    });
    expect(Object.keys(waiting.enrichment).sort()).toEqual(
      ["203.0.113.7", "http://malware.example.com/payload.exe", "login.example.com"].sort(),
    );
    const run = await api("GET", `/v1/runs/${runId}`);
    expect(run.json.run.plan.id).toBe("alerts.triage");

    const approved = await api("POST", `/v1/runs/${runId}/steps/approve_containment/approve`, {
      rationale: "confirmed with the user",
    });
    expect(approved.status, JSON.stringify(approved.json)).toBe(200);

    const finished = await eventually(async () => {
      const r = await api("GET", `/v1/runs/${runId}`);
      return ["succeeded", "failed"].includes(r.json.run.status) ? r : undefined;
    }, "the run to finish");
    expect(finished.json.run.status, JSON.stringify(finished.json.run)).toBe("succeeded");
    const resolved = (await api("GET", `/v1/alerts/${id}`)).json;
    expect(resolved.status).toBe("resolved");
    expect(finished.json.run.output).toMatchObject({
      verdict: "true_positive",
      resolution: "true_positive_contained",
    });
    expect(resolved.resolution.kind).toBe("true_positive");
    // The sample's malware URL is in the sample feed: that is what made it a true positive.
    expect(JSON.stringify(resolved.enrichment)).toContain("http://malware.example.com/payload.exe");
    expect(JSON.stringify(resolved.enrichment)).toContain("malicious");
    const blocked = recorder.requests.filter((r) => r.url === "/fw/block").map((r) => r.json);
    expect(blocked).toContainEqual({ value: "http://malware.example.com/payload.exe" });
    expect(recorder.requests.find((r) => r.url === "/notify")?.json).toMatchObject({
      title: "True positive: Suspicious login from new country",
    });
    const types = resolved.timeline.map((t: J) => t.type);
    for (const t of [
      "received",
      "triage_started",
      "approval_requested",
      "approval_granted",
      "triage_finished",
    ])
      expect(types).toContain(t);
    // The run ends once, so its end is recorded once (it was three times: once per step event of the
    // last inline chain, each of which found the run already finished).
    expect(types.filter((t: string) => t === "triage_finished")).toEqual(["triage_finished"]);
    expect(
      resolved.timeline.filter((t: J) => t.type === "status_changed" && t.details.to === "resolved"),
    ).toHaveLength(1);

    // The same delivery again merges; a bad signature is refused: both are counted on /metrics.
    const again = await fetch(`${runtime.url}/v1/webhooks/flow`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "X-AAT-Signature": signWebhook(created.json.secret, body, Math.floor(Date.now() / 1000) + 1),
      },
      body,
    });
    expect(((await again.json()) as J).alerts[0].duplicate).toBe(true);
    const refused = await fetch(`${runtime.url}/v1/webhooks/flow`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-AAT-Signature": signWebhook("wrong", body, 1) },
      body,
    });
    expect(refused.status).toBe(401);
    const scraped = await (await fetch(`${runtime.url}/metrics`)).text();
    expect(scraped).toMatch(/aat_alerts_ingested_total\{[^}]*source="flow"[^}]*\} 1/);
    expect(scraped).toMatch(/aat_alerts_duplicates_merged_total\{[^}]*source="flow"[^}]*\} 1/);
    expect(scraped).toMatch(/aat_alerts_rejected_total\{[^}]*reason="[a-z_]+"[^}]*\} 1/);
    expect(scraped).toMatch(/aat_alerts_triage_start_latency_seconds_count\{[^}]*\} 1/);
    expect(scraped).toMatch(/aat_enrichment_lookup_seconds_count\{[^}]*provider="feed"[^}]*\} [1-9]/);

    // The alert as chat context: the `alert` kind is registered and a turn about it streams.
    const kinds = await api("GET", "/v1/chat/context-kinds");
    expect(kinds.json.items.map((k: J) => k.kind)).toContain("alert");
    const session = await api("POST", "/v1/chat/sessions", { context: [{ kind: "alert", id }] });
    expect(session.status, JSON.stringify(session.json)).toBe(201);
    const sessionId = session.json.session?.id ?? session.json.id;
    const streamed = await fetch(`${runtime.url}/v1/chat/sessions/${sessionId}/messages`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ text: "What happened with this alert?" }),
    });
    expect(streamed.headers.get("content-type")).toContain("text/event-stream");
    expect(await streamed.text()).toContain("event: done");
  }, 60_000);
});
