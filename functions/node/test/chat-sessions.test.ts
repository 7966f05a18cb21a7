import { rm } from "node:fs/promises";
import type { NodeRuntime } from "@aat/functions-node";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatCall, startChatRuntime } from "./chat-support.js";

describe("chat on the node runtime with the offline model (the default)", () => {
  let runtime: NodeRuntime;
  let dataDir: string;
  let call: ChatCall;

  beforeAll(async () => {
    ({ runtime, dataDir, call } = await startChatRuntime(undefined, { historyTokenBudget: 150 }));
  });

  afterAll(async () => {
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("says plainly that it is the offline model and what it can do, and runs plans on request", async () => {
    const session = (await (await call("POST", "/v1/chat/sessions", {})).json()) as { id: string };
    const asked = await call(
      "POST",
      `/v1/chat/sessions/${session.id}/messages`,
      { text: "Is this IP malicious?" },
      { accept: "application/json" },
    );
    const answer = ((await asked.json()) as { message: { text: string } }).message.text;
    expect(answer).toMatch(/^\[offline model\] This reply comes from the offline model/);
    expect(answer).toContain("do not understand");
    expect(answer).toContain("run <plan id>");
    expect(answer).toContain("status <run id>");

    const started = await call(
      "POST",
      `/v1/chat/sessions/${session.id}/messages`,
      { text: 'run automation.hello {"names": ["Ada"]}' },
      { accept: "application/json" },
    );
    const text = ((await started.json()) as { message: { text: string } }).message.text;
    const runId = /run (\S+) is/.exec(text)?.[1];
    expect(text).toContain("[offline model] Started plan automation.hello");
    expect(runId).toBeDefined();

    const status = await call(
      "POST",
      `/v1/chat/sessions/${session.id}/messages`,
      { text: `status ${runId}` },
      { accept: "application/json" },
    );
    const shown = ((await status.json()) as { message: { text: string } }).message.text;
    expect(shown).toContain(`### run ${runId}`);
    expect(shown).toContain("plan: automation.hello v1");
  });

  it("summarises older messages extractively once the history exceeds chat.historyTokenBudget", async () => {
    const session = (await (await call("POST", "/v1/chat/sessions", {})).json()) as { id: string };
    for (const n of [1, 2, 3]) {
      const sent = await call(
        "POST",
        `/v1/chat/sessions/${session.id}/messages`,
        { text: `Question number ${n}. More words follow here.` },
        { accept: "application/json" },
      );
      expect(sent.status).toBe(200);
    }
    const detail = (await (await call("GET", `/v1/chat/sessions/${session.id}`)).json()) as {
      session: { summary?: { by: string; text: string; throughSeq: number } };
      messages: unknown[];
    };
    expect(detail.messages).toHaveLength(6);
    expect(detail.session.summary).toMatchObject({ by: "offline-extractive" });
    expect(detail.session.summary!.text).toContain("Extractive summary, not written by a language model");
    expect(detail.session.summary!.text).toContain("- user: Question number 1.");
    expect(detail.session.summary!.text).not.toContain("More words follow");
  });

  it("creates, lists, renames, reads and deletes sessions", async () => {
    const ids: string[] = [];
    for (const title of ["alpha", "beta", "gamma"]) {
      const response = await call("POST", "/v1/chat/sessions", {
        title,
        context: [{ kind: "plan", id: "automation.hello" }],
      });
      expect(response.headers.get("location")).toMatch(/^\/v1\/chat\/sessions\//);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const page = (await (await call("GET", "/v1/chat/sessions?limit=2")).json()) as {
      items: Array<{ title: string }>;
      nextCursor?: string;
    };
    expect(page.items.map((s) => s.title)).toEqual(["gamma", "beta"]);
    const next = (await (
      await call("GET", `/v1/chat/sessions?limit=2&cursor=${page.nextCursor}`)
    ).json()) as {
      items: Array<{ title: string }>;
    };
    expect(next.items[0]?.title).toBe("alpha");

    const renamed = await call("PATCH", `/v1/chat/sessions/${ids[0]}`, { title: "renamed" });
    expect(await renamed.json()).toMatchObject({
      title: "renamed",
      context: [{ kind: "plan", id: "automation.hello" }],
    });
    expect(await (await call("GET", `/v1/chat/sessions/${ids[0]}`)).json()).toMatchObject({
      session: { title: "renamed" },
      messages: [],
    });
    expect((await call("DELETE", `/v1/chat/sessions/${ids[0]}`)).status).toBe(204);
    expect((await call("GET", `/v1/chat/sessions/${ids[0]}`)).status).toBe(404);
    const kinds = (await (await call("GET", "/v1/chat/context-kinds")).json()) as {
      items: Array<{ kind: string }>;
    };
    expect(kinds.items.map((k) => k.kind)).toEqual(["run", "plan", "alert"]);
  });
  it("describes the chat routes in the OpenAPI document, valid OpenAPI 3.1 with roles on each", async () => {
    const doc = (await (await fetch(`${runtime.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { "x-aat-roles"?: string[] }>>;
    };
    const chatPaths = Object.fromEntries(
      Object.entries(doc.paths).filter(([path]) => path.startsWith("/v1/chat/")),
    );
    expect(Object.keys(chatPaths).sort()).toEqual([
      "/v1/chat/context-kinds",
      "/v1/chat/sessions",
      "/v1/chat/sessions/{id}",
      "/v1/chat/sessions/{id}/messages",
    ]);
    for (const item of Object.values(chatPaths)) {
      for (const operation of Object.values(item)) {
        expect(operation["x-aat-roles"]).toEqual(["responder", "analyst", "developer", "admin"]);
      }
    }
    const validator = new Validator();
    const result = await validator.validate({ ...doc, paths: chatPaths });
    expect(result.errors).toBeUndefined();
  });
  it("answers bad input with problem+json: unknown session 404, empty message 422, unknown context kind 422", async () => {
    const missing = await call("POST", "/v1/chat/sessions/chat_nope/messages", { text: "hello" });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(await missing.json()).toMatchObject({
      type: "https://aat.dev/problems/not-found",
      sessionId: "chat_nope",
    });

    const session = (await (await call("POST", "/v1/chat/sessions", {})).json()) as { id: string };
    const empty = await call("POST", `/v1/chat/sessions/${session.id}/messages`, { text: "   " });
    expect(empty.status).toBe(422);
    expect(await empty.json()).toMatchObject({
      errors: [{ path: "text", message: expect.stringContaining("must not be empty") }],
    });

    const kind = await call("POST", "/v1/chat/sessions", { context: [{ kind: "dataset", id: "d1" }] });
    expect(kind.status).toBe(422);
    expect(await kind.json()).toMatchObject({ errors: [{ path: "context[0].kind" }] });

    const noAuth = await fetch(`${runtime.url}/v1/chat/sessions`);
    expect(noAuth.status).toBe(401);

    // Viewers may not chat (a turn starts a run); an analyst does not see the admin's sessions.
    const keyFor = async (role: string) =>
      (
        (await (await call("POST", "/v1/keys", { name: `chat-${role}`, roles: [role] })).json()) as {
          key: string;
        }
      ).key;
    const asRole = (key: string, method: string, path: string) =>
      fetch(`${runtime.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    expect((await asRole(await keyFor("viewer"), "GET", "/v1/chat/sessions")).status).toBe(403);
    const analyst = await keyFor("analyst");
    expect((await asRole(analyst, "GET", `/v1/chat/sessions/${session.id}`)).status).toBe(404);
    const theirs = (await (await asRole(analyst, "GET", "/v1/chat/sessions")).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
  });
});
