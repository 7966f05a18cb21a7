import { describe, expect, it } from "vitest";
import { enrichmentOf, resolutionKindOf } from "../../../src/workflows/alerts/triage-status.js";

describe("what a finished triage run does to its alert", () => {
  it("the shipped plans' refined resolutions map to their kind; needs_review (status triaging) stays open", () => {
    expect(resolutionKindOf({ status: "resolved", resolution: "true_positive_contained" })).toBe(
      "true_positive",
    );
    expect(resolutionKindOf({ status: "resolved", resolution: "benign" })).toBe("benign");
    expect(resolutionKindOf({ verdict: "false_positive" })).toBe("false_positive");
    expect(
      resolutionKindOf({ verdict: "needs_review", status: "triaging", resolution: null }),
    ).toBeUndefined();
    expect(resolutionKindOf({ resolution: "escalated" })).toBe("other");
    expect(resolutionKindOf({})).toBeUndefined();
  });

  it("a list of per-indicator answers is stored keyed by indicator; a record as it is; anything else not at all", () => {
    expect(
      enrichmentOf([{ indicator: "198.51.100.23", verdict: "malicious" }, { verdict: "unknown" }]),
    ).toEqual({
      "198.51.100.23": { indicator: "198.51.100.23", verdict: "malicious" },
      "1": { verdict: "unknown" },
    });
    expect(enrichmentOf({ a: 1 })).toEqual({ a: 1 });
    expect(enrichmentOf("x")).toBeUndefined();
    expect(enrichmentOf(null)).toBeUndefined();
  });
});
