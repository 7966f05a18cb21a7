import { createHash, createHmac } from "node:crypto";
import { signWebhook, verifyWebhookSignature } from "@aat/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { uuidFromHash } from "../../src/api/routes/hooks.js";
import { parseSignatureHeader, parseSignatureParts } from "../../src/api/webhook-signature.js";
import { HOOK_SECRET, json, makeApi, PLANS, type TestApi } from "./harness.js";

const JSON_TYPE = { "content-type": "application/json" };

function nowSeconds(api: TestApi): number {
  return Math.floor(api.clock.now() / 1000);
}

async function deliver(
  api: TestApi,
  body: string,
  headers: Record<string, string> = {},
  triggerId = "demo.hook",
): Promise<Response> {
  return api.app.request(`/v1/hooks/${triggerId}`, {
    method: "POST",
    body,
    headers: { ...JSON_TYPE, ...headers },
  });
}

function signed(api: TestApi, body: string, extra: Record<string, string> = {}): Record<string, string> {
  return { "x-aat-signature": signWebhook(HOOK_SECRET, body, nowSeconds(api)), ...extra };
}

async function storedRuns(api: TestApi): Promise<number> {
  return (await api.kv.list("run-index/")).entries.length;
}

describe("POST /v1/hooks/:triggerId", () => {
  it("starts a run with the JSON body as input when the signature is good", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "disk full" });
    const { status, body: answer } = await json(await deliver(api, body, signed(api, body)));
    expect(status).toBe(202);
    expect(answer.duplicate).toBe(false);
    const state = await api.runner.load(answer.runId as string);
    expect(state?.input).toEqual({ alert: "disk full" });
    expect(state?.plan.id).toBe("demo.hook");
    expect(state?.output).toEqual({ got: "disk full" });
    const entries = (await api.auditLog.list({ limit: 10 })).entries;
    expect(entries[0]).toMatchObject({
      who: "anonymous",
      target: "hook:demo.hook",
      result: "ok",
      details: { runId: answer.runId, duplicate: false },
    });
  });

  it("answers 404 naming the trigger for an id outside [A-Za-z0-9._-], before reading the body", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "x" });
    const { status, body: answer } = await json(await deliver(api, body, signed(api, body), "bad%20id"));
    expect(status).toBe(404);
    expect(answer.detail).toContain('webhook trigger "bad id"');
    expect(await storedRuns(api)).toBe(0);
  });

  it("answers 401 for a missing, malformed, wrong or old signature, storing nothing", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "x" });
    const t = nowSeconds(api);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /requires a signature: send header X-AAT-Signature/],
      [{ "x-aat-signature": "sha256=abc" }, /malformed/],
      [{ "x-aat-signature": signWebhook("wrong-secret", body, t) }, /does not match/],
      [{ "x-aat-signature": signWebhook(HOOK_SECRET, `${body} `, t) }, /does not match/],
      [{ "x-aat-signature": signWebhook(HOOK_SECRET, body, t - 301) }, /replay protection/],
      [{ "x-aat-signature": signWebhook(HOOK_SECRET, body, t + 301) }, /replay protection/],
    ];
    for (const [headers, detail] of cases) {
      const { status, body: problem, type } = await json(await deliver(api, body, headers));
      expect(status).toBe(401);
      expect(type).toBe("application/problem+json");
      expect(problem.detail).toMatch(detail);
    }
    expect(await storedRuns(api)).toBe(0);
  });

  it("accepts a signature inside the replay window", async () => {
    const api = await makeApi({ config: { limits: { webhookReplayWindowMs: 60_000 } } });
    const body = JSON.stringify({ alert: "late" });
    const header = signWebhook(HOOK_SECRET, body, nowSeconds(api) - 59);
    expect((await deliver(api, body, { "x-aat-signature": header })).status).toBe(202);
  });

  it("answers a repeated delivery id with the same run, and 409 when its body changed", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "once" });
    const first = await json(await deliver(api, body, signed(api, body, { "x-github-delivery": "d-1" })));
    api.clock.advance(5000);
    const second = await json(await deliver(api, body, signed(api, body, { "x-github-delivery": "d-1" })));
    expect(second.status).toBe(202);
    expect(second.body).toEqual({ runId: first.body.runId, duplicate: true });
    expect(await storedRuns(api)).toBe(1);
    const changed = JSON.stringify({ alert: "twice" });
    const conflict = await json(
      await deliver(api, changed, signed(api, changed, { "x-github-delivery": "d-1" })),
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.detail).toMatch(/delivery id "d-1" was seen before with a different body/);
    expect(await storedRuns(api)).toBe(1);
  });

  it("counts a delivery id resent with the same object written differently as a repeat", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "once", host: "db-1" });
    const first = await json(await deliver(api, body, signed(api, body, { "x-aat-delivery": "d-2" })));
    const rewritten = '{ "host": "db-1",\n  "alert": "once" }';
    const again = await json(
      await deliver(api, rewritten, signed(api, rewritten, { "x-aat-delivery": "d-2" })),
    );
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ runId: first.body.runId, duplicate: true });
    expect(await storedRuns(api)).toBe(1);
  });

  it("records one audit entry per delivery: the first stored with its run, the repeat on its own", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "audited" });
    const first = await json(await deliver(api, body, signed(api, body)));
    await deliver(api, body, signed(api, body));
    const entries = (await api.auditLog.list({ limit: 10 })).entries.filter(
      (e) => e.target === "hook:demo.hook",
    );
    expect(entries.map((e) => [e.status, e.result, e.details])).toEqual([
      [202, "ok", { runId: first.body.runId, duplicate: false }],
      [202, "ok", { runId: first.body.runId, duplicate: true }],
    ]);
    expect(entries[0]).toMatchObject({ who: "anonymous", action: "POST /v1/hooks/:triggerId" });
  });

  it("dedupes on the body's hash when the sender gives no delivery id", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "same" });
    const first = await json(await deliver(api, body, signed(api, body)));
    const second = await json(await deliver(api, body, signed(api, body)));
    expect(second.body).toEqual({ runId: first.body.runId, duplicate: true });
    const other = JSON.stringify({ alert: "different" });
    const third = await json(await deliver(api, other, signed(api, other)));
    expect(third.body.runId).not.toBe(first.body.runId);
    expect(await storedRuns(api)).toBe(2);
  });

  it("gives concurrent copies of one delivery one run", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "burst" });
    const headers = signed(api, body, { "x-aat-delivery": "burst-1" });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => deliver(api, body, headers).then(json)),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(new Set(answers.map((a) => a.body.runId)).size).toBe(1);
    expect(await storedRuns(api)).toBe(1);
  });

  it("refuses unsigned deliveries to a trigger without secret unless the config allows them", async () => {
    const strict = await makeApi();
    const body = JSON.stringify({ alert: "open" });
    const refused = await json(await deliver(strict, body, {}, "demo-open"));
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toMatch(/names no secret.*AAT_AUTH_ALLOW_UNSIGNED_WEBHOOKS=true/);
    expect(await storedRuns(strict)).toBe(0);
    const relaxed = await makeApi({ config: { auth: { allowUnsignedWebhooks: true } } });
    const accepted = await json(await deliver(relaxed, body, {}, "demo-open"));
    expect(accepted.status).toBe(202);
  });

  it("answers 503 when the trigger's secret is not configured, logging where it is looked for", async () => {
    const api = await makeApi({ plans: [PLANS.hook.replace("secret: demo-hook", "secret: missing-one")] });
    const body = JSON.stringify({ alert: "x" });
    const { status, body: problem } = await json(await deliver(api, body, signed(api, body)));
    expect(status).toBe(503);
    expect(problem.detail).not.toMatch(/AAT_SECRET/);
    expect(api.logged).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ where: "environment variable AAT_SECRET_MISSING_ONE" }),
      }),
    ]);
  });

  it("answers 404, 415, 400, 422 and 413 for bad deliveries, storing nothing", async () => {
    const api = await makeApi({ config: { server: { bodyLimitBytes: 512 } } });
    const unknown = await json(await deliver(api, "{}", {}, "no-such-hook"));
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/no plan has a webhook trigger "no-such-hook"/);
    const text = await api.app.request("/v1/hooks/demo.hook", {
      method: "POST",
      body: "hello",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const malformed = "{not json";
    expect((await deliver(api, malformed, signed(api, malformed))).status).toBe(400);
    const array = "[1,2]";
    const notObject = await json(await deliver(api, array, signed(api, array)));
    expect(notObject.status).toBe(422);
    const big = JSON.stringify({ alert: "x".repeat(1000) });
    expect((await deliver(api, big, signed(api, big))).status).toBe(413);
    expect(await storedRuns(api)).toBe(0);
  });

  it("answers 422 with field paths when the body breaks the plan's inputs schema", async () => {
    const withInputs = PLANS.hook.replace(
      "title: Signed webhook",
      "title: Signed webhook\ninputs: { type: object, properties: { alert: { type: string } }, required: [alert] }",
    );
    const api = await makeApi({ plans: [withInputs] });
    const body = JSON.stringify({ other: 1 });
    const { status, body: problem } = await json(await deliver(api, body, signed(api, body)));
    expect(status).toBe(422);
    expect(problem.errors).toEqual([{ path: "input.alert", message: expect.any(String) }]);
    expect(await storedRuns(api)).toBe(0);
  });
});

describe("webhook signatures", () => {
  it("verifies a signature made by signWebhook, and any one of several v1 values (secret rotation)", () => {
    const body = '{"a":1}';
    const header = signWebhook("k1", body, 1000);
    expect(verifyWebhookSignature(header, "k1", body, { now: 1_000_000, replayWindowMs: 1000 })).toEqual({
      ok: true,
      timestampSeconds: 1000,
    });
    const rotated = `${signWebhook("old", body, 1000)},${header.split(",")[1]}`;
    expect(verifyWebhookSignature(rotated, "k1", body, { now: 1_000_000, replayWindowMs: 1000 }).ok).toBe(
      true,
    );
    expect(
      verifyWebhookSignature(header, "k1", new TextEncoder().encode(body), {
        now: 1_000_000,
        replayWindowMs: 1000,
      }).ok,
    ).toBe(true);
    expect(
      verifyWebhookSignature(header, "k2", body, { now: 1_000_000, replayWindowMs: 1000 }),
    ).toMatchObject({
      ok: false,
      reason: "mismatch",
    });
  });
});

describe("webhook signature internals", () => {
  it("reads the usual header form at once exactly as the general parse does", () => {
    const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("hex"));
    const part = fc.oneof(
      fc.tuple(fc.constantFrom("t", " t", "v1", "v1 ", "v0", "x"), fc.oneof(hex, fc.nat().map(String))),
      fc.tuple(
        fc.constant("v1"),
        hex.map((h) => h.toUpperCase()),
      ),
      fc.tuple(fc.constant("t"), fc.constantFrom("", "12a", "1234567890123", "007")),
    );
    const header = fc.oneof(
      fc.tuple(fc.nat({ max: 2 ** 40 }), hex).map(([t, h]) => `t=${t},v1=${h}`),
      fc
        .array(part, { minLength: 1, maxLength: 4 })
        .map((parts) => parts.map(([k, v]) => `${k}=${v}`).join(",")),
      fc.string(),
    );
    fc.assert(
      fc.property(header, (value) => {
        expect(parseSignatureHeader(value)).toEqual(parseSignatureParts(value));
      }),
      { numRuns: 3000 },
    );
  });

  it("signs with the secret's bytes whatever its characters, the empty secret included", () => {
    for (const secret of ["k1", "", "ünïcødé-🔑", "x".repeat(200)]) {
      const expected = createHmac("sha256", secret).update("1000.").update("{}").digest("hex");
      expect(signWebhook(secret, "{}", 1000)).toBe(`t=1000,v1=${expected}`);
      expect(
        verifyWebhookSignature(`t=1000,v1=${expected}`, secret, "{}", { now: 1_000_000, replayWindowMs: 1 }),
      ).toEqual({ ok: true, timestampSeconds: 1000 });
    }
  });
});

describe("uuidFromHash", () => {
  // The run id of a delivery must never change between versions: a sender's retry after an upgrade
  // has to find the run the first copy started. This is the first implementation, kept as the reference.
  const reference = (hex: string) => {
    const h = hex.slice(0, 32).split("");
    h[12] = "8";
    h[16] = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
    const s = h.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
  };

  it("derives a delivery's run id from its trigger and body hash as it always has", async () => {
    const api = await makeApi();
    const body = JSON.stringify({ alert: "same id" });
    const { body: answer } = await json(await deliver(api, body, signed(api, body)));
    const bodyHash = createHash("sha256").update(body).digest("hex");
    const deliveryHash = createHash("sha256").update(`demo.hook\nsha256:${bodyHash}`).digest("hex");
    expect(answer.runId).toBe(reference(deliveryHash));
  });

  it("gives the same id as the first implementation for any SHA-256 hex digest", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const hex = Buffer.from(bytes).toString("hex");
        expect(uuidFromHash(hex)).toBe(reference(hex));
      }),
      { numRuns: 2000 },
    );
    expect(uuidFromHash(createHash("sha256").update("x").digest("hex"))).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
