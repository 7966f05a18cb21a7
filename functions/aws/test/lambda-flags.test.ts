import { describe, expect, it } from "vitest";
import { lambdaNodeFlags } from "../src/bundle.js";

describe("lambdaNodeFlags: the V8 flags Lambda's Node runtime passes for a memory size", () => {
  it("gives a tenth of the memory to new space (two semi-spaces) and the rest to old space", () => {
    expect(lambdaNodeFlags(128)).toEqual([
      "--expose-gc",
      "--max-semi-space-size=6",
      "--max-old-space-size=116",
    ]);
    expect(lambdaNodeFlags(1024)).toEqual([
      "--expose-gc",
      "--max-semi-space-size=51",
      "--max-old-space-size=922",
    ]);
    expect(lambdaNodeFlags(1769)).toEqual([
      "--expose-gc",
      "--max-semi-space-size=88",
      "--max-old-space-size=1593",
    ]);
  });
});
