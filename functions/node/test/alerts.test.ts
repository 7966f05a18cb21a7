import { readFileSync } from "node:fs";
import { join } from "node:path";
import { signWebhook } from "@aat/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeRuntime, startNodeRuntime } from "../src/runtime.js";
import { capturingLogger, eventually, REPO_ROOT, tempDir, testConfig } from "./support.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in these tests.
type J = any;

const PLANS = join(REPO_ROOT, "functions/node/test/fixtures/alert-plans");
const sample = (format: string) => readFileSync(join(REPO_ROOT, "examples/alerts", `${format}.json`), "utf8");

let runtime: NodeRuntime;
let base: string;
const admin = { authorization: "Bearer aat_alertstest_0123456789abcdef0123456789abcdef" };

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: J }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...admin, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : text };
}

async function createSource(
  id: string,
  format: string,
  auth: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const created = await api("POST", "/v1/alert-sources", { id, format, auth, ...extra });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  return created.json.secret as string;
}

function post(sourceId: string, body: string, headers: Record<string, string>) {
  return fetch(`${base}/v1/webhooks/${sourceId}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

function hmac(secret: string, body: string, t = Math.floor(Date.now() / 1000)) {
  return { "X-AAT-Signature": signWebhook(secret, body, t) };
}

async function alertsOf(source: string): Promise<J[]> {
  const out: J[] = [];
  let cursor: string | undefined;
  do {
    const page = await api(
      "GET",
      `/v1/alerts?source=${source}&limit=500${cursor ? `&cursor=${cursor}` : ""}`,
    );
    expect(page.status).toBe(200);
    out.push(...page.json.items);
    cursor = page.json.cursor;
  } while (cursor);
  return out;
}

beforeAll(async () => {
  const dataDir = await tempDir("alerts");
  runtime = await startNodeRuntime({
    config: testConfig({
      dataDir,
      plans: [PLANS],
      auth: { mode: "apiKey", bootstrapAdminKey: admin.authorization.slice(7) },
    }),
    logger: capturingLogger().logger,
    print: () => undefined,
  });
  base = runtime.url!;
});

afterAll(async () => {
  await runtime?.stop();
});

/** What each sample must become: stored OCSF fields and observables. */
const EXPECTED: Record<
  string,
  {
    count: number;
    title: string;
    severity: string;
    product: string;
    uid?: string;
    observables: Array<[string, string]>;
  }
> = {
  generic: {
    count: 1,
    title: "Suspicious login from new country",
    severity: "High",
    product: "Example IdP",
    uid: "gen-2026-0001",
    observables: [
      ["ip", "203.0.113.7"],
      ["user", "alice"],
      ["email", "alice@example.com"],
      ["domain", "login.example.com"],
    ],
  },
  alertmanager: {
    count: 2,
    title: "SSHBruteForce: Many failed SSH logins",
    severity: "Critical",
    product: "Prometheus Alertmanager",
    observables: [
      ["ip", "192.0.2.10"],
      ["ip", "203.0.113.50"],
    ],
  },
  guardduty: {
    count: 1,
    title: "Credentials for instance role ec2-app-role used from an external IP address.",
    severity: "High",
    product: "Amazon GuardDuty",
    uid: "16afba5c5c43e07c9e3e5e2e544e95df",
    observables: [
      ["user", "ec2-app-role"],
      ["ip", "198.51.100.23"],
    ],
  },
  wazuh: {
    count: 1,
    title: "sshd: brute force trying to get access to the system. Non existent user.",
    severity: "Medium",
    product: "Wazuh",
    uid: "1764151702.1234567",
    observables: [
      ["ip", "203.0.113.50"],
      ["user", "admin"],
      ["host", "web-01"],
    ],
  },
  elastic: {
    count: 1,
    title: "Unusual Process Network Connection",
    severity: "High",
    product: "Elastic Security",
    observables: [
      ["ip", "192.0.2.30"],
      ["ip", "203.0.113.80"],
      ["host", "ws-17"],
      ["user", "bob"],
      ["process", "curl"],
      ["hash", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
      ["url", "https://c2.example.net/beacon"],
      ["domain", "c2.example.net"],
    ],
  },
  splunk: {
    count: 1,
    title: "Excessive Failed Logins",
    severity: "High",
    product: "Splunk",
    observables: [
      ["ip", "203.0.113.61"],
      ["user", "carol"],
      ["host", "mail-01"],
    ],
  },
  falco: {
    count: 1,
    title: "Terminal shell in container",
    severity: "Low",
    product: "Falco",
    uid: "5b8a0e2c-2f5d-4a61-9b8e-1f0e7a3c9d11",
    observables: [
      ["user", "root"],
      ["process", "bash"],
      ["host", "k8s-node-1"],
    ],
  },
  suricata: {
    count: 1,
    title: "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT",
    severity: "High",
    product: "Suricata",
    observables: [
      ["ip", "203.0.113.10"],
      ["ip", "192.0.2.40"],
      ["domain", "shop.example.com"],
      ["url", "http://shop.example.com/search?q=1%20UNION%20SELECT%20password"],
    ],
  },
};

describe("alert webhooks on the node runtime", () => {
  for (const [format, expected] of Object.entries(EXPECTED)) {
    it(`${format}: the sample is stored as OCSF Detection Findings with its observables and a triage run`, async () => {
      const secret = await createSource(`s-${format}`, format, { mode: "hmac" });
      const body = sample(format);
      const response = await post(`s-${format}`, body, hmac(secret, body));
      const answer = (await response.json()) as J;
      expect(response.status, JSON.stringify(answer)).toBe(202);
      expect(answer.accepted).toBe(expected.count);
      const first = answer.alerts[0];
      expect(first.runId).toEqual(expect.any(String));
      const detail = await api("GET", `/v1/alerts/${first.id}`);
      expect(detail.status).toBe(200);
      const a = detail.json.alert;
      expect(a.class_uid).toBe(2004);
      expect(a.title).toBe(expected.title);
      expect(a.severity).toBe(expected.severity);
      expect(a.metadata.product.name).toBe(expected.product);
      expect(a.time).toBeGreaterThan(Date.parse("2025-01-01"));
      if (expected.uid) expect(a.finding_info.uid).toBe(expected.uid);
      expect(a.finding_info.types.length).toBeGreaterThan(0);
      const got = a.observables.map((o: J) => [o.type, o.value]);
      for (const o of expected.observables) expect(got).toContainEqual(o);
      // raw keeps the payload (unknown fields too).
      expect(JSON.stringify(detail.json.raw)).toContain(
        format === "generic" ? "acme" : expected.observables[0]![1],
      );
      expect(detail.json.runs[0].runId).toBe(first.runId);
      expect(detail.json.timeline.map((t: J) => t.type)).toContain("received");
      await eventually(
        async () =>
          (await api("GET", `/v1/alerts/${first.id}`)).json.status === "triaging" ? true : undefined,
        "status triaging",
      );
    });
  }

  it("a delivery of the same finding merges (count, last_seen) without a new run; shared observables link alerts", async () => {
    const secret = await createSource("dup", "guardduty", { mode: "bearer" });
    const body = sample("guardduty");
    const first = (await (await post("dup", body, { authorization: `Bearer ${secret}` })).json()) as J;
    const again = (await (await post("dup", body, { authorization: `Bearer ${secret}` })).json()) as J;
    expect(again.alerts[0]).toMatchObject({
      id: first.alerts[0].id,
      duplicate: true,
      runId: first.alerts[0].runId,
    });
    const detail = await api("GET", `/v1/alerts/${first.alerts[0].id}`);
    expect(detail.json.count).toBe(2);
    expect(detail.json.runs).toHaveLength(1);
    // The GuardDuty sample from source s-guardduty shares its observables with this one.
    expect(detail.json.related.length).toBeGreaterThan(0);
  });
});

describe("refused deliveries store nothing", () => {
  let secret: string;
  const good = sample("generic");
  beforeAll(async () => {
    secret = await createSource("strict", "generic", { mode: "hmac" });
  });

  async function refused(response: Response, status: number, reason: string) {
    const problem = (await response.json()) as J;
    expect(response.status, JSON.stringify(problem)).toBe(status);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
    if (reason) expect(problem.reason ?? problem.type).toContain(reason);
    expect(await alertsOf("strict")).toHaveLength(0);
    return problem;
  }

  it("malformed JSON → 400", async () => {
    const body = "{ not json";
    await refused(await post("strict", body, hmac(secret, body)), 400, "malformed_json");
  });
  it("wrong signature → 401", async () => {
    await refused(await post("strict", good, hmac("another-secret-entirely", good)), 401, "bad_signature");
  });
  it("stale timestamp → 401", async () => {
    await refused(
      await post("strict", good, hmac(secret, good, Math.floor(Date.now() / 1000) - 3600)),
      401,
      "stale_timestamp",
    );
  });
  it("valid signature over a different body → 401", async () => {
    const other = good.replace("Suspicious", "Harmless");
    await refused(await post("strict", other, hmac(secret, good)), 401, "bad_signature");
  });
  it("huge body → 413", async () => {
    const huge = JSON.stringify({ title: "x", pad: "a".repeat(1024 * 1024 + 10) });
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}/v1/webhooks/strict`,
        {
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", ...hmac(secret, huge) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(huge);
    });
    expect(status).toBe(413);
    expect(await alertsOf("strict")).toHaveLength(0);
  });
  it("wrong content type → 415", async () => {
    await refused(
      await post("strict", good, { ...hmac(secret, good), "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    );
  });
  it("unreadable payload → 422 naming the missing field", async () => {
    const body = JSON.stringify({ severity: "high" });
    const problem = await refused(await post("strict", body, hmac(secret, body)), 422, "unreadable_payload");
    expect(problem.errors[0].path).toBe("title");
  });
  it("replayed signature → 401 (the first delivery is stored once)", async () => {
    const body = JSON.stringify({ title: "replay me", observables: [{ type: "ip", value: "203.0.113.99" }] });
    const headers = hmac(secret, body);
    expect((await post("strict", body, headers)).status).toBe(202);
    const replay = await post("strict", body, headers);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as J).reason).toBe("replayed_signature");
    expect(await alertsOf("strict")).toHaveLength(1);
  });
});

describe("sources: rotation, other auth modes, disable, test page", () => {
  it("rotation keeps the previous secret valid until the next one; disabled sources get 403", async () => {
    const old = await createSource("rot", "generic", { mode: "hmac" });
    const rotated = await api("POST", "/v1/alert-sources/rot/rotate", {});
    expect(rotated.json.source.secrets).toHaveLength(2);
    const fresh = rotated.json.secret as string;
    for (const [i, s] of [old, fresh].entries()) {
      const body = JSON.stringify({ title: `rotation ${i}` });
      expect((await post("rot", body, hmac(s, body))).status).toBe(202);
    }
    await api("POST", "/v1/alert-sources/rot/rotate", { keepPrevious: false });
    const body = JSON.stringify({ title: "old secret after the second rotation" });
    expect((await post("rot", body, hmac(old, body))).status).toBe(401);
    await api("POST", "/v1/alert-sources/rot/disable");
    expect((await post("rot", body, hmac(fresh, body))).status).toBe(403);
    const listed = await api("GET", "/v1/alert-sources");
    expect(JSON.stringify(listed.json)).not.toContain(fresh);
  });

  it("github, basic and api_key modes", async () => {
    const { createHmac } = await import("node:crypto");
    const gh = await createSource("gh", "generic", { mode: "github" });
    const body = JSON.stringify({ title: "github style" });
    const sig = `sha256=${createHmac("sha256", gh).update(body).digest("hex")}`;
    expect((await post("gh", body, { "X-Hub-Signature-256": sig })).status).toBe(202);
    expect((await post("gh", body, { "X-Hub-Signature-256": `sha256=${"0".repeat(64)}` })).status).toBe(401);
    const basic = await createSource("basic", "generic", { mode: "basic", username: "splunk" });
    const auth = `Basic ${Buffer.from(`splunk:${basic}`).toString("base64")}`;
    expect((await post("basic", JSON.stringify({ title: "basic" }), { authorization: auth })).status).toBe(
      202,
    );
    const key = await createSource("eb", "guardduty", { mode: "api_key", header: "X-Api-Token" });
    expect((await post("eb", sample("guardduty"), { "X-Api-Token": key })).status).toBe(202);
    expect((await post("eb", sample("guardduty"), { "X-Api-Token": "nope" })).status).toBe(401);
    const test = await api("GET", "/v1/webhooks/gh/test");
    expect(test.json.curl).toContain("X-Hub-Signature-256");
  });
});

describe("alert API", () => {
  it("filters, pages, patches with transition checks, notes; a run waiting for approval sets awaiting_approval and its approval resolves the alert", async () => {
    const secret = await createSource("flow", "generic", { mode: "bearer" });
    const body = JSON.stringify({
      title: "Beacon needs approval",
      severity: "critical",
      observables: [{ type: "ip", value: "203.0.113.200" }],
    });
    const answer = (await (await post("flow", body, { authorization: `Bearer ${secret}` })).json()) as J;
    const id = answer.alerts[0].id;
    const runId = answer.alerts[0].runId;
    await eventually(
      async () =>
        (await api("GET", `/v1/alerts/${id}`)).json.status === "awaiting_approval" ? true : undefined,
      "awaiting_approval",
    );
    const byObservable = await api("GET", "/v1/alerts?observable=203.0.113.200&severity=critical&q=beacon");
    expect(byObservable.json.items.map((a: J) => a.id)).toEqual([id]);
    const bad = await api("PATCH", `/v1/alerts/${id}`, { status: "new" });
    expect(bad.status).toBe(409);
    const assigned = await api("PATCH", `/v1/alerts/${id}`, { assignee: "alice" });
    expect(assigned.json.assignee).toBe("alice");
    expect((await api("POST", `/v1/alerts/${id}/notes`, { text: "looking" })).status).toBe(201);
    const approved = await api("POST", `/v1/runs/${runId}/steps/ask/approve`, { rationale: "block it" });
    expect(approved.status, JSON.stringify(approved.json)).toBe(200);
    const resolved = await eventually(async () => {
      const d = await api("GET", `/v1/alerts/${id}`);
      return d.json.status === "resolved" ? d.json : undefined;
    }, "resolved");
    expect(resolved.resolution.kind).toBe("true_positive");
    const types = resolved.timeline.map((t: J) => t.type);
    for (const t of [
      "received",
      "triage_started",
      "approval_requested",
      "assigned",
      "note_added",
      "approval_granted",
      "triage_finished",
    ])
      expect(types).toContain(t);
    const page1 = await api("GET", "/v1/alerts?limit=2&sort=time");
    expect(page1.json.items).toHaveLength(2);
    const page2 = await api("GET", `/v1/alerts?limit=2&sort=time&cursor=${page1.json.cursor}`);
    expect(page2.json.items[0].id).not.toBe(page1.json.items[1].id);
    const metrics = await api("GET", "/v1/alert-metrics");
    expect(metrics.json).toContain("aat_alerts_ingested_total");
    expect(metrics.json).toContain('reason="replayed_signature"');
  });
});

describe("load: two concurrent senders", () => {
  it("2,000 deliveries with 30% exact duplicates give exactly 1,400 alerts and 1,400 triage runs", async () => {
    const secret = await createSource("load", "generic", { mode: "bearer" });
    const unique = Array.from({ length: 1400 }, (_, i) =>
      JSON.stringify({
        id: `load-${i}`,
        title: `load alert ${i}`,
        severity: "low",
        observables: [{ type: "ip", value: `198.51.100.${i % 250}` }],
      }),
    );
    const deliveries = [...unique, ...unique.slice(0, 600)];
    // Two senders take turns from both ends, so duplicates of the same alert race across senders.
    const senderA = deliveries.filter((_, i) => i % 2 === 0);
    const senderB = deliveries.filter((_, i) => i % 2 === 1).reverse();
    const send = async (list: string[]) => {
      const runs: string[] = [];
      for (let i = 0; i < list.length; i += 24) {
        const batch = await Promise.all(
          list.slice(i, i + 24).map((b) => post("load", b, { authorization: `Bearer ${secret}` })),
        );
        for (const r of batch) {
          expect(r.status).toBe(202);
          runs.push(((await r.json()) as J).alerts[0].runId);
        }
      }
      return runs;
    };
    const [a, b] = await Promise.all([send(senderA), send(senderB)]);
    const alerts = await alertsOf("load");
    expect(alerts).toHaveLength(1400);
    expect(alerts.reduce((sum, x) => sum + x.count, 0)).toBe(2000);
    const runIds = new Set([...a, ...b]);
    expect(runIds.size).toBe(1400);
    // Every run exists in the runner, is a run of the triage plan and carries its alert.
    const alertIds = new Set(alerts.map((x) => x.id));
    for (const runId of runIds) {
      const state = await runtime.runner.load(runId);
      if (!state) throw new Error(`run ${runId} was not stored`);
      expect(state.plan.id).toBe("test.alert-triage");
      expect(alertIds.has((state.input as { alert: { id: string } }).alert.id)).toBe(true);
    }
  }, 120_000);
});
