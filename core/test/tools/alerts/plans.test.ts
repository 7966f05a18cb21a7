import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  actionsSection,
  alertTools,
  buildModelRegistry,
  createRunner,
  KvPlanRepository,
  LanguageModelAgent,
  Planner,
  type RunState,
  ToolRegistry,
  threatIntelSection,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingServer } from "./recording-server.js";

const root = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const PLANS = ["triage", "cloud-credential-misuse", "brute-force"].map((name) =>
  readFileSync(root(`plans/alerts/${name}.yaml`), "utf8"),
);

let server: RecordingServer;

beforeAll(async () => {
  server = await new RecordingServer()
    .route((r) =>
      r.url.startsWith("/fw/") || r.url.startsWith("/idp/") || r.url === "/notify"
        ? { body: { ok: true } }
        : undefined,
    )
    .start();
});
afterAll(() => server.stop());

/** The embedded runtime's parts on memory adapters, the shipped plans, the offline model and real tools. */
async function engine() {
  const kv = new MemoryKeyValue();
  const queue = new MemoryQueue<WorkMessage>({
    name: `alerts-${crypto.randomUUID()}`,
    visibilityTimeoutMs: 60_000,
  });
  const tools = new ToolRegistry(
    alertTools({
      threatintel: threatIntelSection.parse({ feeds: [root("examples/threatintel/sample-feed.csv")] }),
      actions: actionsSection.parse({
        channels: { soc: { kind: "webhook", url: `${server.url}/notify` } },
        response: {
          firewall: {
            kind: "block_indicator",
            url: `${server.url}/fw/block`,
            body: { value: "{% indicator %}", type: "{% type %}" },
          },
          idp: { kind: "disable_user", url: `${server.url}/idp/disable`, body: { user: "{% user %}" } },
        },
      }),
      allowHosts: ["127.0.0.1"],
      kv,
    }),
  );
  const plans = new KvPlanRepository(kv, { tools });
  for (const plan of PLANS) await plans.publish(plan);
  const model = new LanguageModelAgent(
    buildModelRegistry({ default: "default", providers: { default: { provider: "offline" } } }),
  );
  const runner = createRunner({ kv, queue, plans, services: { tools, model } });
  const worker = new Worker(runner, queue, { concurrency: 4 });
  const planner = new Planner(plans);
  /** Picks the plan as the alert webhook does (workflow alerts, event alert.received) and runs it until it waits or ends. */
  async function triage(alert: Record<string, unknown>): Promise<{ planId: string; state: RunState }> {
    const match = await planner.match({ workflow: "alerts", event: "alert.received", input: { alert } });
    if (!match.ok) throw new Error(match.reason);
    const { runId } = await runner.start({ planId: match.plan.definition.id, input: { alert } });
    await worker.drain();
    return { planId: match.plan.definition.id, state: (await runner.load(runId))! };
  }
  async function approve(state: RunState, by = "responder-1"): Promise<RunState> {
    const waiting = Object.entries(state.steps).find(([, step]) => step?.status === "waiting_approval");
    if (!waiting) throw new Error(`run ${state.runId} waits for no approval (status ${state.status})`);
    await runner.approve(state.runId, waiting[0], by, "go ahead");
    await worker.drain();
    return (await runner.load(state.runId))!;
  }
  async function reject(state: RunState): Promise<RunState> {
    const waiting = Object.entries(state.steps).find(([, step]) => step?.status === "waiting_approval");
    if (!waiting) throw new Error(`run ${state.runId} waits for no approval`);
    await runner.reject(state.runId, waiting[0], "responder-2", "not now");
    await worker.drain();
    return (await runner.load(state.runId))!;
  }
  return { triage, approve, reject };
}

function alert(overrides: Record<string, unknown>) {
  return {
    id: `alert-${crypto.randomUUID()}`,
    source: "test",
    format: "generic",
    fingerprint: crypto.randomUUID(),
    class_uid: 2004,
    category_uid: 2,
    time: Date.parse("2026-11-26T10:00:00Z"),
    severity_id: 3,
    severity: "Medium",
    status: "New",
    title: "Suspicious connection",
    finding_info: { uid: crypto.randomUUID(), types: [] },
    resources: [],
    observables: [],
    metadata: { product: { name: "Generic" }, version: "1.3.0" },
    raw: {},
    first_seen: 0,
    last_seen: 0,
    count: 1,
    ...overrides,
  };
}

const received = (prefix: string) => server.requests.filter((r) => r.url.startsWith(prefix));

describe("alert triage plans on the embedded runtime with the offline model", () => {
  it("generic: a malicious IP from the sample feed is a true positive, waits for approval, is blocked, notified, resolved", async () => {
    const { triage, approve } = await engine();
    const before = received("/fw/").length;
    const { planId, state } = await triage(
      alert({
        title: "Outbound connection to a known C2",
        observables: [
          { type: "ip", value: "198.51.100.23" },
          { type: "user", value: "bob" },
        ],
      }),
    );
    expect(planId).toBe("alerts.triage");
    expect(state.status).toBe("waiting");
    expect(state.steps.assess?.output).toMatchObject({ verdict: "true_positive" });
    // The offline model says what it is in every reason it writes.
    expect((state.steps.assess?.output as { reason?: string } | undefined)?.reason).toContain(
      "[offline model]",
    );
    expect(received("/fw/").length).toBe(before);
    const done = await approve(state);
    expect(done.status).toBe("succeeded");
    expect(done.output).toMatchObject({
      verdict: "true_positive",
      severity_id: 5,
      severity: "Critical",
      status: "resolved",
      resolution: "true_positive_contained",
    });
    expect(
      received("/fw/")
        .slice(before)
        .map((r) => r.json),
    ).toEqual([{ value: "198.51.100.23", type: "ip" }]);
    expect(received("/notify").at(-1)?.json).toMatchObject({
      title: "True positive: Outbound connection to a known C2",
    });
  });

  it("generic: a benign address closes without any action", async () => {
    const { triage } = await engine();
    const before = server.requests.length;
    const { state } = await triage(
      alert({ title: "VPN login", observables: [{ type: "ip", value: "198.51.100.10" }] }),
    );
    expect(state.status).toBe("succeeded");
    expect(state.output).toMatchObject({
      verdict: "benign",
      status: "resolved",
      resolution: "benign",
      severity_id: 1,
    });
    expect(server.requests.length).toBe(before);
  });

  it("generic: no evidence means needs_review; the notification (a dangerous tool, no approval before it) waits for one", async () => {
    const { triage, approve, reject } = await engine();
    const notified = received("/notify").length;
    const { state } = await triage(
      alert({ title: "Odd process", observables: [{ type: "ip", value: "192.0.2.200" }] }),
    );
    expect(state.status).toBe("waiting");
    expect(state.steps.notify_review?.status).toBe("waiting_approval");
    expect(received("/notify").length).toBe(notified);
    const done = await approve(state);
    expect(done.status).toBe("succeeded");
    expect(done.output).toMatchObject({ verdict: "needs_review", status: "triaging" });
    expect(received("/notify").at(-1)?.json).toMatchObject({ title: "Needs review: Odd process" });
    // Refused, nothing is sent and the alert is held for review all the same.
    const second = await triage(
      alert({ title: "Odd process 2", observables: [{ type: "ip", value: "192.0.2.201" }] }),
    );
    const held = await reject(second.state);
    expect(held.status).toBe("succeeded");
    expect(held.output).toMatchObject({ verdict: "needs_review", status: "triaging" });
    expect(received("/notify").at(-1)?.json).toMatchObject({ title: "Needs review: Odd process" });
  });

  it("a malformed observable leaves its indicator without evidence and never fails the run", async () => {
    const { triage } = await engine();
    const { state } = await triage(
      alert({
        observables: [
          { type: "ip", value: "999.1.1.1" },
          { type: "domain", value: "localhost" },
        ],
      }),
    );
    expect(state.status).toBe("waiting");
    expect(state.steps.notify_review?.status).toBe("waiting_approval");
    const enrichment = state.steps.enrich?.output as Array<{
      indicator: string;
      degraded: boolean;
      error: string;
    }>;
    expect(enrichment.map((e) => [e.indicator, e.degraded])).toEqual([
      ["999.1.1.1", true],
      ["localhost", true],
    ]);
    expect(enrichment[0]?.error).toContain("must be an IPv4 or IPv6 address");
  });

  it("a rejected approval blocks nothing and records the rejection", async () => {
    const { triage, approve, reject } = await engine();
    const before = received("/fw/").length;
    const { state } = await triage(
      alert({ observables: [{ type: "domain", value: "cdn.malware.example.com" }] }),
    );
    expect(state.status).toBe("waiting");
    const rejected = await reject(state);
    // The rejection covers the block, not the notification, which now asks for its own approval.
    expect(rejected.steps.notify_true_positive?.status).toBe("waiting_approval");
    const done = await approve(rejected);
    expect(done.status).toBe("succeeded");
    expect(done.output).toMatchObject({
      verdict: "true_positive",
      resolution: "true_positive_containment_rejected",
    });
    expect(received("/fw/").length).toBe(before);
  });

  it("the planner picks the brute-force plan for Wazuh; approval blocks the attacking address", async () => {
    const { triage, approve } = await engine();
    const before = received("/fw/").length;
    const { planId, state } = await triage(
      alert({
        title: "sshd: brute force trying to get access to the system. Authentication failed.",
        severity_id: 3,
        finding_info: { uid: "1731160800.123456", types: ["syslog", "sshd", "authentication_failures"] },
        metadata: { product: { name: "Wazuh", vendor_name: "Wazuh" }, version: "1.3.0" },
        observables: [
          { type: "ip", value: "203.0.113.66", role: "src" },
          { type: "user", value: "root" },
          { type: "host", value: "web-01" },
        ],
      }),
    );
    expect(planId).toBe("alerts.brute-force");
    expect(state.status).toBe("waiting");
    const done = await approve(state);
    expect(done.output).toMatchObject({
      verdict: "true_positive",
      resolution: "true_positive_contained",
      status: "resolved",
    });
    expect(
      received("/fw/")
        .slice(before)
        .map((r) => r.json),
    ).toEqual([{ value: "203.0.113.66", type: "ip" }]);
  });

  it("the planner picks the brute-force plan for Falco too, and a benign source closes without action", async () => {
    const { triage } = await engine();
    const before = server.requests.length;
    const { planId, state } = await triage(
      alert({
        title: "Multiple failed login attempts",
        finding_info: { uid: "f-1", types: ["Brute force login attempts"] },
        metadata: { product: { name: "Falco" }, version: "1.3.0" },
        observables: [{ type: "ip", value: "198.51.100.10" }],
      }),
    );
    expect(planId).toBe("alerts.brute-force");
    expect(state.output).toMatchObject({ verdict: "benign", status: "resolved", resolution: "benign" });
    expect(server.requests.length).toBe(before);
  });

  it("the planner picks the cloud-credential plan for GuardDuty IAM findings; approval disables the user and blocks the caller", async () => {
    const { triage, approve } = await engine();
    const [fw, idp] = [received("/fw/").length, received("/idp/").length];
    const { planId, state } = await triage(
      alert({
        title: "Credentials for instance role used from an external IP",
        severity_id: 4,
        finding_info: {
          uid: "gd-1",
          types: ["UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"],
        },
        metadata: { product: { name: "Amazon GuardDuty", vendor_name: "AWS" }, version: "1.3.0" },
        observables: [
          { type: "ip", value: "198.51.100.23" },
          { type: "user", value: "deploy-bot" },
        ],
      }),
    );
    expect(planId).toBe("alerts.cloud-credential-misuse");
    expect(state.status).toBe("waiting");
    const done = await approve(state);
    expect(done.status).toBe("succeeded");
    expect(done.output).toMatchObject({
      verdict: "true_positive",
      resolution: "true_positive_contained",
      severity_id: 5,
    });
    expect(
      received("/idp/")
        .slice(idp)
        .map((r) => r.json),
    ).toEqual([{ user: "deploy-bot" }]);
    expect(
      received("/fw/")
        .slice(fw)
        .map((r) => r.json),
    ).toEqual([{ value: "198.51.100.23", type: "ip" }]);
    // No ticket system is configured here: the ticket step fails and the plan notifies and closes anyway.
    expect(done.steps.ticket?.status).toBe("failed");
  });

  it("a GuardDuty finding that is not about credentials goes to the generic plan", async () => {
    const { triage } = await engine();
    const { planId } = await triage(
      alert({
        finding_info: { uid: "gd-2", types: ["Recon:EC2/PortProbeUnprotectedPort"] },
        metadata: { product: { name: "Amazon GuardDuty" }, version: "1.3.0" },
      }),
    );
    expect(planId).toBe("alerts.triage");
  });
});
