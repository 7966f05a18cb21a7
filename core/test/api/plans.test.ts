import { describe, expect, it } from "vitest";
import { json, makeApi, PLANS } from "./harness.js";

const YAML = { "content-type": "application/yaml" };

describe("GET /v1/plans, /v1/plans/:id, /v1/plans/:id/versions/:v", () => {
  it("lists the current version of every plan, sorted by id", async () => {
    const api = await makeApi();
    const { status, body } = await json(await api.call("GET", "/v1/plans", { role: "viewer" }));
    expect(status).toBe(200);
    const items = body.items as Array<{ id: string; version: number; origin: string }>;
    expect(items.map((p) => p.id)).toEqual([
      "demo.approve",
      "demo.hook",
      "demo.inputs",
      "demo.review",
      "demo.tools",
    ]);
    expect(items[0]).toMatchObject({
      version: 1,
      workflow: "automation",
      title: "Ask before acting",
      origin: "kv",
    });
  });

  it("shows a plan with its versions and one version's definition and source", async () => {
    const api = await makeApi();
    await api.call("PUT", "/v1/plans/demo.approve", {
      role: "developer",
      body: PLANS.approve.replace("Ask before acting", "Ask first"),
      headers: YAML,
    });
    const plan = await json(await api.call("GET", "/v1/plans/demo.approve", { role: "viewer" }));
    expect(plan.status).toBe(200);
    expect(plan.body.plan).toMatchObject({ id: "demo.approve", version: 2, title: "Ask first" });
    const versions = plan.body.versions as Array<{ version: number; publishedBy?: string }>;
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(versions[1]?.publishedBy).toMatch(/^key:/);
    const first = await json(await api.call("GET", "/v1/plans/demo.approve/versions/1", { role: "viewer" }));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: "demo.approve", version: 1, origin: "kv" });
    expect((first.body.definition as { title: string }).title).toBe("Ask before acting");
    expect(first.body.source).toMatch(/^version: 1$/m);
  });

  it("answers 404 for unknown plans and versions, 400 for malformed ids, 401 without credentials", async () => {
    const api = await makeApi();
    const plan = await json(await api.call("GET", "/v1/plans/nope", { role: "viewer" }));
    expect(plan.status).toBe(404);
    expect(plan.body.detail).toMatch(/plan "nope" does not exist/);
    const version = await json(
      await api.call("GET", "/v1/plans/demo.approve/versions/7", { role: "viewer" }),
    );
    expect(version.status).toBe(404);
    expect(version.body.detail).toMatch(/has no version 7/);
    const malformed = await json(await api.call("GET", "/v1/plans/Not_Valid", { role: "viewer" }));
    expect(malformed.status).toBe(400);
    expect((malformed.body.errors as Array<{ path: string }>)[0]?.path).toBe("path.id");
    expect((await api.call("GET", "/v1/plans")).status).toBe(401);
  });
});

describe("POST /v1/plans/validate", () => {
  it("accepts a valid plan as YAML or as JSON {yaml}", async () => {
    const api = await makeApi();
    const yaml = await json(
      await api.call("POST", "/v1/plans/validate", { role: "developer", body: PLANS.approve, headers: YAML }),
    );
    expect(yaml.status).toBe(200);
    expect(yaml.body).toEqual({
      valid: true,
      errors: [],
      plan: { id: "demo.approve", version: 1, workflow: "automation", title: "Ask before acting" },
    });
    const viaJson = await json(
      await api.call("POST", "/v1/plans/validate", { role: "developer", json: { yaml: PLANS.approve } }),
    );
    expect(viaJson.body.valid).toBe(true);
  });

  it("reports every problem with line, column, path and a formatted message, as a 200 result", async () => {
    const api = await makeApi();
    const broken = `id: demo.broken
workflow: automation
title: Broken
steps:
  - id: look
    type: tool
    tool: test.cuont
  - id: go
    type: branch
    cases: [{ when: "true", next: nowhere }]
`;
    const { status, body } = await json(
      await api.call("POST", "/v1/plans/validate", {
        role: "developer",
        body: broken,
        headers: { "content-type": "text/yaml" },
      }),
    );
    expect(status).toBe(200);
    expect(body.valid).toBe(false);
    const errors = body.errors as Array<{
      line: number;
      column: number;
      path: string;
      message: string;
      formatted: string;
    }>;
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ line: 7, path: "steps[0].tool" });
    expect(errors[0]?.message).toMatch(/unknown tool "test.cuont".*did you mean "test.count"/);
    expect(errors[0]?.formatted).toMatch(/^plan\.yaml:7:\d+ steps\[0\]\.tool: unknown tool/);
    expect(errors[1]).toMatchObject({ line: 10, path: "steps[1].cases[0].next" });
  });

  it("answers 415 for other content types, 422 for an empty body, 403 for a viewer", async () => {
    const api = await makeApi();
    const xml = await json(
      await api.call("POST", "/v1/plans/validate", {
        role: "developer",
        body: "<plan/>",
        headers: { "content-type": "application/xml" },
      }),
    );
    expect(xml.status).toBe(415);
    const empty = await json(
      await api.call("POST", "/v1/plans/validate", { role: "developer", body: " ", headers: YAML }),
    );
    expect(empty.status).toBe(422);
    const json422 = await json(
      await api.call("POST", "/v1/plans/validate", { role: "developer", json: { text: "x" } }),
    );
    expect(json422.status).toBe(422);
    expect(
      (await api.call("POST", "/v1/plans/validate", { role: "viewer", body: PLANS.approve, headers: YAML }))
        .status,
    ).toBe(403);
  });
});

describe("PUT /v1/plans/:id", () => {
  it("publishes the next version without a redeploy; new runs use it", async () => {
    const api = await makeApi();
    const changed = PLANS.inputs.replace(
      'values: { ip: "{% input.ip %}" }',
      'values: { ip: "{% input.ip %}", v: 2 }',
    );
    const response = await api.call("PUT", "/v1/plans/demo.inputs", {
      role: "developer",
      body: changed,
      headers: YAML,
    });
    const { status, body } = await json(response);
    expect(status).toBe(201);
    expect(body).toMatchObject({ id: "demo.inputs", version: 2, unchanged: false });
    expect(response.headers.get("location")).toBe("/v1/plans/demo.inputs/versions/2");
    const run = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        json: { planId: "demo.inputs", input: { ip: "10.0.0.1" } },
      }),
    );
    expect(run.body.plan).toEqual({ id: "demo.inputs", version: 2 });
    expect((await api.runner.load(run.body.runId as string))?.output).toEqual({ ip: "10.0.0.1", v: 2 });
    const entries = (await api.auditLog.list({ limit: 10 })).entries;
    expect(entries[0]).toMatchObject({
      action: "PUT /v1/plans/:id",
      target: "plan:demo.inputs",
      details: { version: 2 },
    });
  });

  it("answers 200 unchanged for the same content", async () => {
    const api = await makeApi();
    const { status, body } = await json(
      await api.call("PUT", "/v1/plans/demo.approve", {
        role: "developer",
        body: PLANS.approve,
        headers: YAML,
      }),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ version: 1, unchanged: true });
  });

  it("answers 422 listing every problem, and stores nothing", async () => {
    const api = await makeApi();
    const broken = PLANS.approve
      .replace("type: approval", "type: aproval")
      .replace("type: set\n    values: { contained", "type: set\n    value: { contained");
    const { status, body } = await json(
      await api.call("PUT", "/v1/plans/demo.approve", { role: "developer", body: broken, headers: YAML }),
    );
    expect(status).toBe(422);
    const errors = body.errors as Array<{ path: string; line: number; formatted: string }>;
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.map((e) => e.path)).toEqual(expect.arrayContaining(["steps[1].type"]));
    expect(errors.every((e) => e.line > 0 && e.formatted.startsWith("demo.approve.yaml:"))).toBe(true);
    expect((await api.plans.versions("demo.approve")).length).toBe(1);
  });

  it("answers 409 when the text's id differs from the path", async () => {
    const api = await makeApi();
    const { status, body } = await json(
      await api.call("PUT", "/v1/plans/demo.other", {
        role: "developer",
        body: PLANS.approve,
        headers: YAML,
      }),
    );
    expect(status).toBe(409);
    expect(body.detail).toMatch(/has id "demo.approve" but the path says "demo.other"/);
    expect(await api.plans.get("demo.other")).toBeUndefined();
  });

  it("answers 401 and 403 (viewer, responder) and 415 for JSON that is not {yaml}", async () => {
    const api = await makeApi();
    expect(
      (await api.call("PUT", "/v1/plans/demo.approve", { body: PLANS.approve, headers: YAML })).status,
    ).toBe(401);
    for (const role of ["viewer", "responder"] as const) {
      expect(
        (await api.call("PUT", "/v1/plans/demo.approve", { role, body: PLANS.approve, headers: YAML }))
          .status,
      ).toBe(403);
    }
    const form = await api.call("PUT", "/v1/plans/demo.approve", {
      role: "developer",
      body: "a=b",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
  });
});

describe("POST /v1/plans/dry-run", () => {
  it("runs a plan with stubbed tool and agent steps, fast-forwarding waits, and stores nothing", async () => {
    const api = await makeApi();
    const runsBefore = (await api.kv.list("run-index/")).entries.length;
    const { status, body } = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: {
          planId: "demo.tools",
          input: { label: "x" },
          stubs: { "test.count": { label: "stubbed", count: 41 }, judge: { verdict: "benign" } },
        },
      }),
    );
    expect(status).toBe(200);
    expect(body.complete).toBe(true);
    expect(body.stubbed).toEqual(["judge", "lookup"]);
    const run = body.run as { status: string; output: unknown };
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ verdict: "benign", count: 41 });
    expect((body.notes as string[]).join("\n")).toMatch(/fast-forwarded.*pause/);
    expect((body.events as Array<{ seq: number }>)[0]?.seq).toBe(1);
    expect((await api.kv.list("run-index/")).entries.length).toBe(runsBefore);
  });

  it("fails an unstubbed tool step with a message naming the stub to add", async () => {
    const api = await makeApi();
    const { body } = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: { planId: "demo.tools", input: { label: "x" } },
      }),
    );
    const run = body.run as {
      status: string;
      steps: Record<string, { error?: { message: string; code: string } }>;
    };
    expect(run.status).toBe("failed");
    expect(run.steps.lookup?.error).toMatchObject({ code: "no_stub" });
    expect(run.steps.lookup?.error?.message).toMatch(/no stub for step "lookup" \(tool "test.count"\)/);
  });

  it("makes a step fail with a $fail stub and checks agent stubs against the output schema", async () => {
    const api = await makeApi();
    const failed = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: {
          planId: "demo.tools",
          input: { label: "x" },
          stubs: { lookup: { $fail: "intel service down" } },
        },
      }),
    );
    const run = failed.body.run as { steps: Record<string, { error?: { message: string } }> };
    expect(run.steps.lookup?.error?.message).toBe("intel service down");
    const wrongShape = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: {
          planId: "demo.tools",
          input: { label: "x" },
          stubs: { lookup: { label: "a", count: 1 }, judge: { verdict: 3 } },
        },
      }),
    );
    const agentRun = wrongShape.body.run as { steps: Record<string, { error?: { message: string } }> };
    expect(agentRun.steps.judge?.error?.message).toMatch(/stub for agent step "judge" does not match/);
  });

  it("stops at approvals and says so", async () => {
    const api = await makeApi();
    const { status, body } = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: { yaml: PLANS.approve.replace("id: demo.approve", "id: demo.draft"), input: { host: "h" } },
      }),
    );
    expect(status).toBe(200);
    expect(body.complete).toBe(false);
    expect((body.run as { status: string }).status).toBe("waiting");
    expect(body.waitingFor).toEqual([{ key: "ask", reason: "approval" }]);
    expect((body.notes as string[]).join("\n")).toMatch(/step "ask" waits for an approval/);
    expect(await api.plans.get("demo.draft")).toBeUndefined();
  });

  it("answers 422 for an invalid plan text or input, 404 for an unknown plan, 403 for a responder", async () => {
    const api = await makeApi();
    const invalid = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: { yaml: "id: x\nsteps: []\n" },
      }),
    );
    expect(invalid.status).toBe(422);
    expect((invalid.body.errors as Array<{ formatted: string }>)[0]?.formatted).toMatch(/^dry-run\.yaml/);
    const input = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: { planId: "demo.inputs", input: {} },
      }),
    );
    expect(input.status).toBe(422);
    expect(input.body.errors).toEqual([{ path: "input.ip", message: expect.any(String) }]);
    const both = await json(
      await api.call("POST", "/v1/plans/dry-run", {
        role: "developer",
        json: { planId: "demo.inputs", yaml: "x" },
      }),
    );
    expect(both.status).toBe(422);
    const unknown = await json(
      await api.call("POST", "/v1/plans/dry-run", { role: "developer", json: { planId: "nope" } }),
    );
    expect(unknown.status).toBe(404);
    expect(
      (await api.call("POST", "/v1/plans/dry-run", { role: "responder", json: { planId: "demo.tools" } }))
        .status,
    ).toBe(403);
  });
});
