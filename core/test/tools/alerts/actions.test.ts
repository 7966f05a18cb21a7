import { createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { actionsSection, alertTools, callTool, type Tool, threatIntelSection } from "@aat/core";
import { SMTPServer } from "smtp-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RecordingServer } from "./recording-server.js";

// biome-ignore lint/suspicious/noExplicitAny: each test reads the output of a different tool
function call(tools: Tool[], name: string, input: unknown): Promise<any> {
  const tool = tools.find((t) => t.name === name)!;
  return callTool(tool, input, {
    runId: "run-9",
    stepKey: "act",
    attempt: 1,
    idempotencyKey: "run-9/act/1",
    signal: new AbortController().signal,
  });
}

interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

/** A local SMTP server (smtp-server) that keeps every message it accepts. */
async function startSmtp(): Promise<{ port: number; mails: ReceivedMail[]; stop(): Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("response-action tools against recording servers", () => {
  let server: RecordingServer;

  beforeEach(async () => {
    server = await new RecordingServer()
      .route((r) => (r.url === "/slack/T000/B000" ? { body: "ok" } : undefined))
      .route((r) => (r.url === "/teams/workflow" ? { status: 202, body: "" } : undefined))
      .route((r) => (r.url === "/hook" ? { body: { received: true } } : undefined))
      .route((r) => (r.url === "/broken" ? { status: 400, body: "invalid_payload" } : undefined))
      .route((r) =>
        r.url === "/jira/rest/api/2/issue"
          ? {
              status: 201,
              body: { id: "10042", key: "SEC-42", self: `${server.url}/jira/rest/api/2/issue/10042` },
            }
          : undefined,
      )
      .route((r) =>
        r.url === "/snow/api/now/table/incident"
          ? {
              status: 201,
              body: { result: { sys_id: "9d385017c611228701d22104cc95c371", number: "INC0010042" } },
            }
          : undefined,
      )
      .route((r) =>
        r.url.startsWith("/fw/") || r.url.startsWith("/edr/") || r.url.startsWith("/idp/")
          ? { body: { ok: true } }
          : undefined,
      )
      .start();
  });

  afterEach(() => server.stop());

  function tools(actions: unknown, allowHosts = ["127.0.0.1"]): Tool[] {
    return alertTools({
      threatintel: threatIntelSection.parse({}),
      actions: actionsSection.parse(actions),
      allowHosts,
      kv: new MemoryKeyValue(),
    });
  }

  it("marks every action tool dangerous and the threat-intel tools not", () => {
    const all = tools({});
    const dangerous = all.filter((t) => t.dangerous).map((t) => t.name);
    expect(dangerous.sort()).toEqual([
      "notify.send",
      "response.block_indicator",
      "response.disable_user",
      "response.isolate_host",
      "ticket.create",
    ]);
    expect(all.filter((t) => t.name.startsWith("threatintel.")).every((t) => !t.dangerous)).toBe(true);
  });

  it("notify.send posts Slack Block Kit, a Teams Adaptive Card and a signed generic webhook", async () => {
    const t = tools({
      channels: {
        soc: { kind: "slack", url: `${server.url}/slack/T000/B000` },
        team: { kind: "teams", url: `${server.url}/teams/workflow` },
        siem: {
          kind: "webhook",
          url: `${server.url}/hook`,
          signingSecret: "s3cret",
          headers: { "X-Tenant": "acme" },
        },
      },
    });
    const result = await call(t, "notify.send", {
      title: "True positive: SSH brute force",
      text: "203.0.113.66 is malicious (score 95)",
      severity: "High",
      fields: { verdict: "true_positive" },
    });
    expect(result.sent.map((s: { channel: string }) => s.channel)).toEqual(["soc", "team", "siem"]);
    const slack = server.requests.find((r) => r.url.startsWith("/slack/"))!;
    expect(slack.json).toMatchObject({ text: "[High] True positive: SSH brute force" });
    expect((slack.json as { blocks: Array<{ type: string }> }).blocks[0]).toMatchObject({ type: "header" });
    const teams = server.requests.find((r) => r.url === "/teams/workflow")!;
    expect(teams.json).toMatchObject({
      type: "message",
      attachments: [
        { contentType: "application/vnd.microsoft.card.adaptive", content: { type: "AdaptiveCard" } },
      ],
    });
    const hook = server.requests.find((r) => r.url === "/hook")!;
    expect(hook.json).toMatchObject({
      title: "True positive: SSH brute force",
      runId: "run-9",
      fields: { verdict: "true_positive" },
    });
    expect(hook.headers["x-tenant"]).toBe("acme");
    expect(hook.headers["idempotency-key"]).toBe("run-9/act/1");
    expect(hook.headers["x-aat-signature"]).toBe(
      `sha256=${createHmac("sha256", "s3cret").update(hook.body).digest("hex")}`,
    );
  });

  it("notify.send sends nothing (and says so) without channels, and names unknown or failing channels", async () => {
    expect(await call(tools({}), "notify.send", { title: "x" })).toMatchObject({
      sent: [],
      skipped: expect.stringContaining("actions.channels"),
    });
    const t = tools({ channels: { bad: { kind: "slack", url: `${server.url}/broken` } } });
    await expect(call(t, "notify.send", { title: "x", channel: "nope" })).rejects.toThrow(
      /unknown notification channel\(s\) nope/,
    );
    await expect(call(t, "notify.send", { title: "x" })).rejects.toThrow(
      /bad \(slack\): the slack webhook answered HTTP 400: invalid_payload/,
    );
  });

  it("notify.send emails through SMTP (nodemailer against a local smtp-server)", async () => {
    const smtp = await startSmtp();
    try {
      const t = tools({
        channels: { oncall: { kind: "email", to: ["oncall@example.com", "soc@example.com"] } },
        smtp: { host: "127.0.0.1", port: smtp.port, from: "aat@example.com" },
      });
      const result = await call(t, "notify.send", { title: "Alert closed", text: "benign", severity: "Low" });
      expect(result.sent[0]).toMatchObject({ channel: "oncall", kind: "email" });
      expect(smtp.mails).toHaveLength(1);
      expect(smtp.mails[0]).toMatchObject({
        from: "aat@example.com",
        to: ["oncall@example.com", "soc@example.com"],
      });
      expect(smtp.mails[0]!.data).toContain("Subject: [Low] Alert closed");
      expect(smtp.mails[0]!.data).toMatch(/^X-Aat-Idempotency-Key: run-9\/act\/1$/im);
    } finally {
      await smtp.stop();
    }
  });

  it("ticket.create opens a Jira issue (REST v2, basic auth) and a ServiceNow incident (Table API)", async () => {
    const t = tools({
      jira: {
        baseUrl: `${server.url}/jira`,
        email: "bot@example.com",
        apiToken: "jira-token",
        project: "SEC",
      },
      servicenow: { instanceUrl: `${server.url}/snow`, user: "svc", password: "pw" },
    });
    const jira = await call(t, "ticket.create", {
      summary: "Brute force from 203.0.113.66",
      description: "details",
      severity: "High",
      labels: ["aat"],
    });
    expect(jira).toEqual({
      system: "jira",
      id: "10042",
      key: "SEC-42",
      url: `${server.url}/jira/browse/SEC-42`,
    });
    const jiraRequest = server.requests.find((r) => r.url.startsWith("/jira/"))!;
    expect(jiraRequest.headers.authorization).toBe(
      `Basic ${Buffer.from("bot@example.com:jira-token").toString("base64")}`,
    );
    expect(jiraRequest.json).toEqual({
      fields: {
        project: { key: "SEC" },
        issuetype: { name: "Task" },
        summary: "Brute force from 203.0.113.66",
        description: "details",
        labels: ["aat", "severity-high"],
      },
    });
    const snow = await call(t, "ticket.create", {
      system: "servicenow",
      summary: "Credential misuse",
      severity: "Critical",
    });
    expect(snow).toMatchObject({
      system: "servicenow",
      id: "9d385017c611228701d22104cc95c371",
      key: "INC0010042",
    });
    expect(server.requests.find((r) => r.url.startsWith("/snow/"))?.json).toMatchObject({
      short_description: "Credential misuse",
      urgency: "1",
      impact: "1",
    });
    await expect(call(tools({}), "ticket.create", { summary: "x" })).rejects.toThrow(
      /no ticket system is configured/,
    );
  });

  it("response tools render the configured URL, headers and body templates and send an idempotency key", async () => {
    const t = tools({
      response: {
        firewall: {
          kind: "block_indicator",
          url: `${server.url}/fw/blocklist`,
          headers: { Authorization: "Bearer fw-token" },
          body: {
            value: "{% indicator %}",
            kind: "{% type %}",
            comment: "aat run {% runId %}: {% reason %}",
          },
        },
        edr: { kind: "isolate_host", url: `${server.url}/edr/hosts/{% host %}/isolate`, method: "PUT" },
        idp: {
          kind: "disable_user",
          url: `${server.url}/idp/users/{% $encodeUrlComponent(user) %}/disable`,
          body: { alert: "{% alertId %}" },
        },
      },
    });
    const blocked = await call(t, "response.block_indicator", {
      indicator: "203.0.113.66",
      type: "ip",
      reason: "brute force",
    });
    expect(blocked).toEqual({
      kind: "block_indicator",
      results: [{ action: "firewall", status: 200, url: `${server.url}/fw/blocklist` }],
    });
    const fw = server.requests.find((r) => r.url === "/fw/blocklist")!;
    expect(fw.method).toBe("POST");
    expect(fw.headers.authorization).toBe("Bearer fw-token");
    expect(fw.headers["idempotency-key"]).toBe("run-9/act/1/firewall");
    expect(fw.json).toEqual({ value: "203.0.113.66", kind: "ip", comment: "aat run run-9: brute force" });
    await call(t, "response.isolate_host", { host: "web-01", reason: "c2 beacon" });
    expect(server.requests.find((r) => r.url === "/edr/hosts/web-01/isolate")?.method).toBe("PUT");
    await call(t, "response.disable_user", {
      user: "alice@example.com",
      reason: "stolen keys",
      alertId: "a-1",
    });
    expect(server.requests.find((r) => r.url === "/idp/users/alice%40example.com/disable")?.json).toEqual({
      alert: "a-1",
    });
  });

  it("response tools refuse clearly when nothing is configured or the host is not allow-listed", async () => {
    await expect(call(tools({}), "response.isolate_host", { host: "h", reason: "r" })).rejects.toThrow(
      /no isolate_host action is configured: add one with kind "isolate_host" under actions.response/,
    );
    const guarded = tools({ response: { fw: { kind: "block_indicator", url: `${server.url}/fw/x` } } }, []);
    await expect(
      call(guarded, "response.block_indicator", { indicator: "203.0.113.66", type: "ip", reason: "r" }),
    ).rejects.toThrow(/http.allowHosts/);
    expect(server.requests).toHaveLength(0);
  });
});
