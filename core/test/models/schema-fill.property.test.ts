import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { assess } from "../../src/models/offline/assessment.js";
import type { Fact } from "../../src/models/offline/facts.js";
import { fillSchema } from "../../src/models/offline/schema-fill.js";

type Schema = Record<string, unknown>;

const names = fc.constantFrom(
  "verdict",
  "rationale",
  "score",
  "confidence",
  "ip",
  "malicious",
  "tags",
  "count",
  "note",
  "severity",
);

const leaf: fc.Arbitrary<Schema> = fc.oneof(
  fc.constant({ type: "string" }),
  fc.record({ type: fc.constant("string"), maxLength: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ type: fc.constant("string"), format: fc.constantFrom("date-time", "email", "uri", "uuid") }),
  fc.constant({ type: "boolean" }),
  fc.record({
    type: fc.constant("integer"),
    minimum: fc.integer({ min: -5, max: 5 }),
    maximum: fc.integer({ min: 6, max: 200 }),
  }),
  fc.record({ type: fc.constant("number"), minimum: fc.constant(0), maximum: fc.constantFrom(1, 10, 100) }),
  fc
    .uniqueArray(
      fc.constantFrom("malicious", "benign", "suspicious", "unknown", "low", "high", "other", "x"),
      {
        minLength: 1,
        maxLength: 5,
      },
    )
    .map((values) => ({ type: "string", enum: values })),
  fc.constant({ type: ["string", "null"] }),
  fc.record({ type: fc.constant("string"), minLength: fc.integer({ min: 0, max: 300 }) }),
  fc.constant({ const: "fixed" }),
  fc.constant({ enum: [1, 2, 3] }),
  fc.constant({ type: "string", default: "x", enum: ["x", "y"] }),
);

const schema: fc.Arbitrary<Schema> = fc.letrec<{ node: Schema }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.record({
      type: fc.constant("array"),
      items: tie("node"),
      minItems: fc.integer({ min: 0, max: 2 }),
    }),
    fc.dictionary(names, tie("node"), { minKeys: 1, maxKeys: 5 }).chain((properties) =>
      fc.record({
        type: fc.constant("object"),
        properties: fc.constant(properties),
        required: fc.subarray(Object.keys(properties)),
        additionalProperties: fc.boolean(),
      }),
    ),
  ),
})).node;

const facts: fc.Arbitrary<Fact[]> = fc.array(
  fc.record({
    key: names,
    path: fc.constant("p"),
    value: fc.oneof(
      fc.integer({ min: -10, max: 150 }),
      fc.boolean(),
      fc.constantFrom("malicious", "benign", "1.2.3.4", ""),
    ),
    source: fc.constantFrom("tool a", "prompt"),
  }),
  { maxLength: 6 },
);

describe("fillSchema", () => {
  it("always produces a value the schema accepts, and the same value for the same input", async () => {
    await fc.assert(
      fc.asyncProperty(schema, facts, async (s, f) => {
        const value = await fillSchema(s, f, assess(f));
        const checked = z.fromJSONSchema(s as Parameters<typeof z.fromJSONSchema>[0]).safeParse(value);
        expect(checked.success, JSON.stringify({ schema: s, value, issues: checked.error?.issues })).toBe(
          true,
        );
        expect(await fillSchema(s, f, assess(f))).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });
});
