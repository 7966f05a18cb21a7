import { describe, expect, it } from "vitest";
import { json, makeApi, PLANS, type TestApi } from "./harness.js";

async function start(api: TestApi, planId: string, input: unknown): Promise<string> {
  const { status, body } = await json(
    await api.call("POST", "/v1/runs", { role: "responder", json: { planId, input } }),
  );
  expect(status).toBe(202);
  return body.runId as string;
}

describe("POST /v1/runs/:id/steps/:stepId/approve and /reject", () => {
  it("approves a waiting step: the run goes on and records who decided and why", async () => {
    const api = await makeApi();
    const runId = await start(api, "demo.approve", { host: "web-1" });
    const { status, body } = await json(
      await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, {
        role: "responder",
        json: { rationale: "confirmed compromise" },
      }),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ runId, status: "succeeded" });
    const { body: detail } = await json(await api.call("GET", `/v1/runs/${runId}`, { role: "viewer" }));
    const run = detail.run as {
      output: unknown;
      steps: Record<string, { status: string; approval?: { decision?: { by: string; rationale?: string } } }>;
    };
    expect(run.steps.ask?.status).toBe("approved");
    expect(run.steps.ask?.approval?.decision).toMatchObject({
      by: expect.stringMatching(/^key:/),
      rationale: "confirmed compromise",
    });
    expect(run.output).toEqual({ contained: "web-1" });
    const entries = (await api.auditLog.list({ limit: 10 })).entries;
    expect(entries.at(-1)).toMatchObject({
      action: "POST /v1/runs/:id/steps/:stepId/approve",
      target: `run:${runId}/step:ask`,
      result: "ok",
    });
  });

  it("rejects a waiting step; without onReject the run fails", async () => {
    const api = await makeApi();
    const runId = await start(api, "demo.approve", { host: "web-1" });
    const { status, body } = await json(
      await api.call("POST", `/v1/runs/${runId}/steps/ask/reject`, {
        role: "admin",
        json: { rationale: "no" },
      }),
    );
    expect(status).toBe(200);
    expect(body.status).toBe("failed");
    expect((await api.runner.load(runId))?.steps.ask?.status).toBe("rejected");
  });

  it("answers 409 with the current status when the step is not waiting for approval", async () => {
    const api = await makeApi();
    const runId = await start(api, "demo.approve", { host: "web-1" });
    await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, { role: "responder" });
    const again = await json(
      await api.call("POST", `/v1/runs/${runId}/steps/ask/reject`, { role: "responder" }),
    );
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ currentStatus: "approved", step: "ask" });
    const notApproval = await json(
      await api.call("POST", `/v1/runs/${runId}/steps/prepare/approve`, { role: "responder" }),
    );
    expect(notApproval.status).toBe(409);
    expect(notApproval.body.currentStatus).toBe("succeeded");
  });

  it("addresses steps inside map iterations by their URL-encoded instance key", async () => {
    const api = await makeApi();
    const runId = await start(api, "demo.review", { items: ["a", "b"] });
    const waiting = Object.keys((await api.runner.load(runId))?.steps ?? {}).filter((k) => k.includes("/"));
    expect(waiting.sort()).toEqual(["review[0]/ask", "review[1]/ask"]);
    for (const key of waiting) {
      const { status } = await json(
        await api.call("POST", `/v1/runs/${runId}/steps/${encodeURIComponent(key)}/approve`, {
          role: "responder",
        }),
      );
      expect(status).toBe(200);
    }
    expect((await api.runner.load(runId))?.status).toBe("succeeded");
  });

  it("answers 404 naming the waiting steps when the step key is unknown, and for unknown runs", async () => {
    const api = await makeApi();
    const runId = await start(api, "demo.review", { items: ["a"] });
    const unknown = await json(
      await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, { role: "responder" }),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/steps waiting for approval: review\[0\]\/ask/);
    const noRun = await json(
      await api.call("POST", "/v1/runs/nope/steps/ask/approve", { role: "responder" }),
    );
    expect(noRun.status).toBe(404);
  });

  it("answers 401 without credentials and 403 for roles that may not decide", async () => {
    const api = await makeApi();
    const runId = await start(api, "demo.approve", { host: "web-1" });
    expect((await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`)).status).toBe(401);
    for (const role of ["viewer", "analyst", "developer"] as const) {
      expect((await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, { role })).status).toBe(403);
    }
    expect((await api.runner.load(runId))?.steps.ask?.status).toBe("waiting_approval");
  });

  it("lets only the step's named approvers decide (admins always may)", async () => {
    const restricted = PLANS.approve
      .replace("id: demo.approve", "id: demo.restricted")
      .replace("approvers: [role:responder]", "approvers: [user:alice]");
    const api = await makeApi({ plans: [restricted] });
    const runId = await start(api, "demo.restricted", { host: "db-1" });
    const responder = await json(
      await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, { role: "responder" }),
    );
    expect(responder.status).toBe(403);
    expect(responder.body.detail).toMatch(/may be decided only by user:alice/);
    const alice = await api.keys.create({ name: "alice", roles: ["responder"], createdBy: "test" });
    const byAlice = await api.app.request(`/v1/runs/${runId}/steps/ask/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(byAlice.status).toBe(200);
  });

  it("answers 422 for an invalid body", async () => {
    const api = await makeApi();
    const runId = await start(api, "demo.approve", { host: "web-1" });
    const { status, body } = await json(
      await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, {
        role: "responder",
        json: { rationale: 42 },
      }),
    );
    expect(status).toBe(422);
    expect((body.errors as Array<{ path: string }>)[0]?.path).toBe("rationale");
    expect((await api.runner.load(runId))?.steps.ask?.status).toBe("waiting_approval");
  });
});
