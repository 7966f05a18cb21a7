import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, hashPayload } from "../../src/dedupe/canonical-json.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("canonicalJson", () => {
  it("sorts keys at every depth and otherwise writes plain JSON", () => {
    const value = { b: 1, a: [{ z: true, y: null }, "x"], "10": "ten", "9": "nine", é: "é" };
    expect(canonicalJson(value)).toBe('{"10":"ten","9":"nine","a":[{"y":null,"z":true},"x"],"b":1,"é":"é"}');
  });

  it("follows JSON.stringify for undefined, functions, non-finite numbers, holes and toJSON", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested
    const sparse = [1, , 3];
    const value = {
      gone: undefined,
      fn: () => 1,
      list: [undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY],
      sparse,
      when: new Date(Date.UTC(2026, 0, 2)),
    };
    expect(canonicalJson(value)).toBe(
      '{"list":[null,null,null,null],"sparse":[1,null,3],"when":"2026-01-02T00:00:00.000Z"}',
    );
  });

  it("refuses values JSON cannot hold, naming where they are", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow(/\$\.self\.back refers back to itself/);
    expect(() => canonicalJson({ n: [1n] })).toThrow(/\$\.n\[0\] is a BigInt/);
    expect(() => canonicalJson(undefined)).toThrow(/top-level undefined/);
  });

  it("parses back to what JSON.stringify would produce, for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

describe("hashPayload", () => {
  it("is the sha256 of the canonical JSON", () => {
    expect(hashPayload({ b: 1, a: [1, "x"] })).toBe(sha256('{"a":[1,"x"],"b":1}'));
    expect(hashPayload({ b: 1, a: [1, "x"] })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not depend on key order but does depend on every value", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(hashPayload(reversed)).toBe(hashPayload(record));
      }),
    );
    expect(hashPayload({ ip: "10.0.0.1" })).not.toBe(hashPayload({ ip: "10.0.0.2" }));
    expect(hashPayload([1, 2])).not.toBe(hashPayload([2, 1]));
    expect(hashPayload({ a: undefined, b: 1 })).toBe(hashPayload({ b: 1 }));
  });
});
