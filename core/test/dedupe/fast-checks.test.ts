import { describe, expect, it } from "vitest";
import { claimOptionsSchema, holdSchema, validClaimOptions, validHold } from "../../src/dedupe/service.js";

// The hand-written checks on the claim/complete path must give the zod schemas' verdicts.
const numbers: unknown[] = [
  1,
  0.5,
  60_000,
  0,
  -1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 60,
  "5",
  null,
  undefined,
];
const strings: unknown[] = ["abc", "", undefined, 7, null];

describe("validClaimOptions agrees with claimOptionsSchema", () => {
  it("on every combination of good and bad fields", () => {
    const cases: unknown[] = [undefined, null, "options", 3, []];
    for (const expiresAfterMs of numbers)
      for (const inProgressExpiryMs of numbers)
        for (const payloadHash of strings) cases.push({ expiresAfterMs, inProgressExpiryMs, payloadHash });
    cases.push(
      { expiresAfterMs: 1, inProgressExpiryMs: 1 },
      { expiresAfterMs: 1, inProgressExpiryMs: 1, extra: 1 },
    );
    for (const options of cases) {
      expect(validClaimOptions(options), JSON.stringify(options)).toBe(
        claimOptionsSchema.safeParse(options).success,
      );
    }
  });
});

describe("validHold agrees with holdSchema", () => {
  it("on every field made wrong in turn, and on missing optional fields", () => {
    const good = {
      status: "claimed",
      key: "k",
      claimId: "c1",
      version: 3,
      expiresAfterMs: 60_000,
      payloadHash: "h",
      claimableAt: 1_700_000_000_000,
    };
    const wrong: Record<string, unknown[]> = {
      status: ["duplicate", undefined, 1],
      key: ["", 5, undefined],
      claimId: ["", undefined, 1],
      version: [0, -1, 1.5, 2 ** 60, Number.NaN, "3", undefined],
      expiresAfterMs: [0, -5, Number.POSITIVE_INFINITY, Number.NaN, undefined, "1"],
      payloadHash: ["", 1, null, undefined],
      claimableAt: [0, -1, 1.5, Number.POSITIVE_INFINITY, Number.NaN, "1", null, undefined],
    };
    const cases: unknown[] = [good, undefined, null, "hold", []];
    for (const [field, values] of Object.entries(wrong))
      for (const value of values) cases.push({ ...good, [field]: value });
    for (const hold of cases) {
      expect(validHold(hold), JSON.stringify(hold)).toBe(holdSchema.safeParse(hold).success);
    }
  });
});
