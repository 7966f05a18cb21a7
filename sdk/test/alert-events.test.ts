import { createAatClient, type SseMessage } from "@aat/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRuntime, type TestRuntime } from "./support.js";

let runtime: TestRuntime;
const SECRET = "alert-events-token-0123456789abcdef";

beforeAll(async () => {
  runtime = await startTestRuntime();
  const created = await fetch(`${runtime.url}/v1/alert-sources`, {
    method: "POST",
    headers: { authorization: `Bearer ${runtime.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ id: "events", format: "generic", auth: { mode: "bearer" }, secret: SECRET }),
  });
  expect(created.status).toBe(201);
});
afterAll(() => runtime?.stop());

const client = () => createAatClient({ baseUrl: runtime.url, bearerToken: runtime.adminKey });

async function send(id: string): Promise<string> {
  const response = await fetch(`${runtime.url}/v1/webhooks/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: JSON.stringify({ id, title: `event test ${id}`, severity: "low", observables: [] }),
  });
  expect(response.status).toBe(202);
  const body = (await response.json()) as { alerts: { id: string }[] };
  return body.alerts[0]!.id;
}

/** Reads messages from `stream` until `done` says enough, or fails after `ms`. */
async function collect(
  stream: AsyncGenerator<SseMessage>,
  done: (seen: SseMessage[]) => boolean,
  ms = 15_000,
): Promise<SseMessage[]> {
  const seen: SseMessage[] = [];
  const timer = setTimeout(() => void stream.return(undefined), ms);
  try {
    for await (const message of stream) {
      seen.push(message);
      if (done(seen)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

const idsOf = (messages: SseMessage[]) =>
  messages.filter((m) => m.event === "alert").map((m) => (JSON.parse(m.data) as { id: string }).id);

describe("GET /v1/alert-events", () => {
  it("streams each new alert and each change to it, whichever route made it, and resumes after the last id", async () => {
    const abort = new AbortController();
    const stream = client().stream("/v1/alert-events", { signal: abort.signal });
    // Let the stream open before the first change (a reader starts at the current second).
    const first = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const id = await send("ev-1");
    const opened = await first;
    const seen = await collect(stream, (s) => idsOf(s).length >= 1);
    const messages = [...(opened.value ? [opened.value as SseMessage] : []), ...seen];
    expect(idsOf(messages)).toContain(id);
    const lastId = messages.filter((m) => m.event === "alert").at(-1)!.id!;
    abort.abort();

    // A change through another route (PATCH) while nobody listens, then a resume after the last id:
    // the change is delivered, what was already seen is not.
    const patched = await fetch(`${runtime.url}/v1/alerts/${id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${runtime.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ assignee: "alice" }),
    });
    expect(patched.status).toBe(200);
    const resumed = client().stream("/v1/alert-events", { lastEventId: lastId });
    const after = await collect(resumed, (s) => s.some((m) => m.event === "alert"));
    await resumed.return(undefined);
    const change = after.find((m) => m.event === "alert")!;
    expect(JSON.parse(change.data)).toMatchObject({ id });
    expect(change.id! > lastId).toBe(true);
  });

  it("tells a client resuming from a point it no longer covers to reload", async () => {
    const stream = client().stream("/v1/alert-events", {
      lastEventId: "alerts/changes/1700000000/1700000000000-old",
    });
    const [first] = await collect(stream, (s) => s.length >= 1);
    await stream.return(undefined);
    expect(first?.event).toBe("reset");
  });

  it("refuses a caller without credentials", async () => {
    const response = await fetch(`${runtime.url}/v1/alert-events`);
    expect(response.status).toBe(401);
  });
});
