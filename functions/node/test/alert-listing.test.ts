import { join } from "node:path";
import type { KeyValue } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturingLogger, eventually, REPO_ROOT, tempDir, testConfig } from "./support.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in this test.
type J = any;

const PLANS = join(REPO_ROOT, "functions/node/test/fixtures/alert-plans");
const admin = { authorization: "Bearer aat_alertlisting_0123456789abcdef0123456789abcdef" };
const TOKEN = "listing-token-0123456789abcdef";
const N = 60;
const BASE = Date.parse("2026-11-20T00:00:00Z");
const SEVERITIES = ["low", "medium", "high"];
let runtime: NodeRuntime;
/** Alert records read (get, getMany, list of alerts/items/…) since the counter was last reset. */
let itemReads = 0;

function counting(kv: KeyValue): KeyValue {
  const items = (keys: readonly string[]) => keys.filter((k) => k.startsWith("alerts/items/")).length;
  return new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "get")
        return (key: string) => {
          itemReads += items([key]);
          return target.get(key);
        };
      if (prop === "getMany")
        return (keys: readonly string[]) => {
          itemReads += items(keys);
          return target.getMany(keys);
        };
      if (prop === "list")
        return async (prefix: string, options?: Parameters<KeyValue["list"]>[1]) => {
          const page = await target.list(prefix, options);
          itemReads += items(page.entries.map((e) => e.key));
          return page;
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: J }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { ...admin, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : text };
}

/** Every page of a query, following the cursor; ids in the order served. */
async function pages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let count = 0;
  do {
    const page = await api("GET", `/v1/alerts?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page.status, JSON.stringify(page.json)).toBe(200);
    expect(page.json.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.json.items.map((a: J) => a.id));
    cursor = page.json.cursor;
    count++;
    if (count > 100) throw new Error("paging does not end");
  } while (cursor);
  return { ids, pages: count };
}

beforeAll(async () => {
  const dataDir = await tempDir("alert-listing");
  runtime = await startNodeRuntime({
    config: testConfig({
      dataDir,
      plans: [PLANS],
      auth: { mode: "apiKey", bootstrapAdminKey: admin.authorization.slice(7) },
    }),
    logger: capturingLogger().logger,
    print: () => undefined,
    decorateStores: (stores) => ({ ...stores, kv: counting(stores.kv) }),
  });
  for (const id of ["list-a", "list-b"]) {
    const created = await api("POST", "/v1/alert-sources", {
      id,
      format: "generic",
      auth: { mode: "bearer" },
      secret: TOKEN,
    });
    expect(created.status).toBe(201);
  }
  // N alerts with distinct times (shuffled, so ids are not in time order), three severities, two
  // sources; every third asks for approval (the fixture plan then waits), the rest stay triaging.
  const order = Array.from({ length: N }, (_, i) => (i * 37) % N);
  for (const source of ["list-a", "list-b"]) {
    const alerts = order
      .filter((i) => (i % 2 === 0) === (source === "list-a"))
      .map((i) => ({
        id: `listing-${i}`,
        title: i % 3 === 0 ? `needs approval ${i}` : `routine check ${i}`,
        severity: SEVERITIES[i % 3],
        time: new Date(BASE + i * 60_000).toISOString(),
        observables: [],
      }));
    const delivered = await fetch(`${runtime.url}/v1/webhooks/${source}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ alerts }),
    });
    expect(delivered.status).toBe(202);
  }
  await eventually(async () => {
    const page = await api("GET", "/v1/alerts?status=new&limit=500");
    const waiting = await api("GET", "/v1/alerts?status=awaiting_approval&limit=500");
    return page.json.items.length === 0 && waiting.json.items.length === N / 3 ? true : undefined;
  }, "every alert triaged");
  // Resolve a few of the triaging ones by hand.
  const triaging = (await api("GET", "/v1/alerts?status=triaging&limit=500")).json.items;
  for (const a of triaging.slice(0, 8)) {
    const patched = await api("PATCH", `/v1/alerts/${a.id}`, {
      status: "resolved",
      resolution: { kind: "benign" },
    });
    expect(patched.status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
});

describe("GET /v1/alerts over the index", () => {
  it("pages with filters give exactly the alerts a full read gives, newest first, each once", async () => {
    // The reference: everything, read in one go through the sorting path (time ascending), reversed.
    const all: J[] = (await api("GET", "/v1/alerts?sort=time&limit=500")).json.items.reverse();
    expect(all).toHaveLength(N);
    const byStatus = (s: string) => all.filter((a) => a.status === s);
    expect(byStatus("resolved")).toHaveLength(8);
    const from = new Date(BASE + 10 * 60_000).toISOString();
    const to = new Date(BASE + 45 * 60_000).toISOString();
    const cases: Array<[string, (a: J) => boolean]> = [
      ["", () => true],
      ["status=triaging", (a) => a.status === "triaging"],
      [
        "status=awaiting_approval&severity=low",
        (a) => a.status === "awaiting_approval" && a.severity === "Low",
      ],
      ["status=triaging&source=list-b", (a) => a.status === "triaging" && a.source === "list-b"],
      ["status=resolved", (a) => a.status === "resolved"],
      [
        `status=triaging&from=${from}&to=${to}`,
        (a) => a.status === "triaging" && a.time >= from && a.time <= to,
      ],
      [
        "q=routine%20check&severity=high",
        (a) => a.title.startsWith("routine check") && a.severity === "High",
      ],
      ["status=new", () => false],
    ];
    for (const [query, keep] of cases) {
      const expected = all.filter(keep).map((a) => a.id);
      for (const limit of [1, 4, 7, 500]) {
        const { ids } = await pages(query, limit);
        expect(ids, `${query} limit ${limit}`).toEqual(expected);
      }
    }
    // Times are newest first.
    const times = all.map((a) => Date.parse(a.time));
    expect(times).toEqual([...times].sort((x, y) => y - x));
  }, 120_000);

  it("a page with a status filter reads about a page of alerts, not every alert", async () => {
    itemReads = 0;
    const page = await api("GET", "/v1/alerts?status=resolved&limit=5");
    expect(page.json.items).toHaveLength(5);
    expect(page.json.cursor).toBeDefined();
    expect(itemReads).toBeLessThanOrEqual(5);
    itemReads = 0;
    const next = await api("GET", `/v1/alerts?status=resolved&limit=5&cursor=${page.json.cursor}`);
    expect(next.json.items).toHaveLength(3);
    expect(itemReads).toBeLessThanOrEqual(5);
    // The sorting path (other orders) still reads them all.
    itemReads = 0;
    await api("GET", "/v1/alerts?status=resolved&sort=severity&limit=5");
    expect(itemReads).toBeGreaterThanOrEqual(N);
  });

  it("a cursor that is not one the API returned answers 400", async () => {
    const bogus = Buffer.from(JSON.stringify({ i: "not-a-kv-cursor" })).toString("base64url");
    const answer = await api("GET", `/v1/alerts?status=triaging&cursor=${bogus}`);
    expect(answer.status).toBe(400);
    expect(answer.json.detail).toContain("cursor");
    expect((await api("GET", "/v1/alerts?cursor=garbage")).status).toBe(400);
  });
});
