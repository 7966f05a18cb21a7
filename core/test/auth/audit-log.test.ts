import { MemoryKeyValue } from "@aat/adapter-memory";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AuditLog,
  auditRecordInputSchema,
  laterPrefixes,
  ManualClock,
  parseAuditRecordInput,
} from "../../src/index.js";
import { authFixture } from "./helpers.js";

const entry = (action: string, at?: string) => ({
  who: "key:a",
  action,
  target: "/v1/x",
  result: "ok" as const,
  status: 200,
  requestId: "req-1",
  ...(at === undefined ? {} : { at }),
});

describe("AuditLog", () => {
  it("stores entries under audit/<zero-padded ms>/<random> and lists them by time", async () => {
    const { log, kv } = authFixture();
    await log.record(entry("second", "2026-01-01T00:00:02Z"));
    await log.record(entry("first", "2026-01-01T00:00:01Z"));
    await log.record(entry("third", "2026-01-01T00:00:03Z"));
    const keys = (await kv.list("audit/")).entries.map((e) => e.key);
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(key).toMatch(/^audit\/\d{15}\/[0-9a-f]{16}$/);
    const page = await log.list({ limit: 10 });
    expect(page.entries.map((e) => e.action)).toEqual(["first", "second", "third"]);
    expect(page.next).toBeUndefined();
    expect(page.entries[0]).toMatchObject({ at: "2026-01-01T00:00:01.000Z", who: "key:a", status: 200 });
  });

  it("keeps entries of the same millisecond in the order they were recorded", async () => {
    const { log } = authFixture();
    const actions = Array.from({ length: 25 }, (_, index) => `a${index}`);
    for (const action of actions) await log.record(entry(action));
    expect((await log.list({ limit: 100 })).entries.map((e) => e.action)).toEqual(actions);
  });

  it("takes the time from its clock when none is given", async () => {
    const { log, clock } = authFixture();
    clock.set(Date.UTC(2026, 5, 1, 12));
    expect((await log.record(entry("now"))).at).toBe("2026-06-01T12:00:00.000Z");
  });

  it("redacts detail fields whose names look like secrets", async () => {
    const { log } = authFixture();
    const recorded = await log.record({
      ...entry("x"),
      details: { name: "ci", apiKey: "aat_x_y", token: "t" },
    });
    expect(recorded.details).toEqual({ name: "ci", apiKey: "[redacted]", token: "[redacted]" });
  });

  it("pages with after/next through every entry exactly once, in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        async (offsets, limit) => {
          const clock = new ManualClock(Date.UTC(2026, 0, 1));
          const log = new AuditLog(new MemoryKeyValue({ clock }), clock);
          const base = clock.now();
          for (const [index, offset] of offsets.entries()) {
            await log.record(entry(`e${index}`, new Date(base + offset).toISOString()));
          }
          clock.set(base + 5_000_000);
          const everything = (await log.list({ limit: 1_000 })).entries.map((e) => e.id);
          expect(everything).toEqual([...everything].sort());
          expect(everything).toHaveLength(offsets.length);
          const paged: string[] = [];
          let after: string | undefined;
          for (let page = 0; page <= offsets.length; page++) {
            const result = await log.list({ limit, ...(after === undefined ? {} : { after }) });
            paged.push(...result.entries.map((e) => e.id));
            if (result.next === undefined) break;
            after = result.next;
          }
          expect(paged).toEqual(everything);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses a bad after cursor and a bad limit with the expected form", async () => {
    const { log } = authFixture();
    await expect(log.list({ limit: 10, after: "yesterday" })).rejects.toThrow(
      /is not an audit entry id; expected/,
    );
    await expect(log.list({ limit: 0 })).rejects.toThrow(/limit must be an integer from 1 to 1000/);
  });
});

describe("laterPrefixes", () => {
  it("covers every later timestamp bucket in ascending order and stops past the latest", () => {
    expect(laterPrefixes("0157", "0999")).toEqual([
      "0158",
      "0159",
      "016",
      "017",
      "018",
      "019",
      "02",
      "03",
      "04",
      "05",
      "06",
      "07",
      "08",
      "09",
    ]);
    expect(laterPrefixes("0157", "0170")).toEqual(["0158", "0159", "016", "017"]);
    expect(laterPrefixes("0199", "0999")[0]).toBe("02");
  });
});

describe("parseAuditRecordInput", () => {
  // The plain check in front of the schema must give exactly the schema's answer: the same output
  // (fields and their order) for input it takes, and the schema's own errors for everything else.
  const json = fc.oneof(
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
  );
  const field = fc.oneof(fc.string(), fc.integer(), fc.constant(undefined), fc.constant(null));
  const input = fc.record(
    {
      who: field,
      action: field,
      target: field,
      result: fc.oneof(fc.constantFrom("ok", "denied", "error", "OK"), field),
      status: fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 60), field),
      requestId: field,
      details: fc.oneof(
        fc.constant(undefined),
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("__proto__", "token")), json, { maxKeys: 4 }),
        fc.array(fc.string(), { maxLength: 2 }),
        fc.string(),
      ),
      at: fc.oneof(fc.constant(undefined), fc.constant("2026-01-01T00:00:00Z"), fc.string()),
      extra: fc.string(),
    },
    { requiredKeys: [] },
  );
  const same = (value: unknown) => {
    const fast = parseAuditRecordInput(value);
    const schema = auditRecordInputSchema.safeParse(value);
    expect(fast.success).toBe(schema.success);
    if (fast.success && schema.success) {
      expect(JSON.stringify(fast.data)).toBe(JSON.stringify(schema.data));
      expect(fast.data).toStrictEqual(schema.data);
    } else if (!fast.success && !schema.success) {
      expect(fast.error.issues).toEqual(schema.error.issues);
    }
  };

  it("answers exactly as auditRecordInputSchema on generated input", () => {
    fc.assert(fc.property(input, same), { numRuns: 3000 });
    // Mostly valid input, so the plain path is taken often.
    const valid = fc.record({
      who: fc.string(),
      action: fc.string(),
      target: fc.string(),
      result: fc.constantFrom("ok", "denied", "error"),
      status: fc.integer(),
      requestId: fc.string(),
      details: fc.option(fc.dictionary(fc.string(), json, { maxKeys: 4 }), { nil: undefined }),
    });
    fc.assert(fc.property(valid, same), { numRuns: 3000 });
  });

  it("answers as the schema for odd objects: symbol keys, a null prototype, an own __proto__ key", () => {
    const base = { who: "a", action: "b", target: "c", result: "ok", status: 202, requestId: "r" };
    same({ ...base, details: { [Symbol("s")]: 1, a: 1 } });
    same({ ...base, details: Object.assign(Object.create(null), { a: 1 }) });
    same({ ...base, details: JSON.parse('{"__proto__": 1, "a": 2}') });
    same({ ...base, details: { runId: "r-1", duplicate: false } });
    same([]);
    same(null);
  });
});
