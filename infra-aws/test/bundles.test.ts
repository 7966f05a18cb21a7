import { describe, expect, it } from "vitest";
import { lambdaCodeCaches } from "../src/bundles.js";

const sizes = {
  sizes: {
    api: { memoryMb: 512, timeoutSeconds: 30, maxInstances: 10, concurrency: 80 },
    worker: { memoryMb: 1024, timeoutSeconds: 300, maxInstances: 10, concurrency: 10 },
  },
};
const node = "/opt/node22-arm64/bin/node";

describe("the code cache a synth ships (AAT_CODE_CACHE, AAT_CODE_CACHE_NODE, AAT_CODE_CACHE_V8_FLAGS)", () => {
  it("is made per function with the V8 flags Lambda starts that function's node with (from its memory size)", () => {
    const http = ["--expose-gc", "--max-semi-space-size=25", "--max-old-space-size=461"];
    const worker = ["--expose-gc", "--max-semi-space-size=51", "--max-old-space-size=922"];
    expect(lambdaCodeCaches(sizes, { AAT_CODE_CACHE_NODE: node })).toEqual({
      caches: {
        http: [{ node, flags: http }],
        worker: [{ node, flags: worker }],
        schedule: [{ node, flags: http }],
      },
    });
  });

  it("takes the flags it is given instead", () => {
    const flags = ["--expose-gc", "--max-semi-space-size=16"];
    const { caches } = lambdaCodeCaches(sizes, {
      AAT_CODE_CACHE_NODE: node,
      AAT_CODE_CACHE_V8_FLAGS: " --expose-gc  --max-semi-space-size=16 ",
    });
    expect(caches?.worker).toEqual([{ node, flags }]);
    expect(caches?.http).toEqual([{ node, flags }]);
  });

  it("is left out when asked, and a wrong setting says what it expects", () => {
    expect(lambdaCodeCaches(sizes, { AAT_CODE_CACHE: "off", AAT_CODE_CACHE_NODE: node })).toEqual({});
    expect(() => lambdaCodeCaches(sizes, { AAT_CODE_CACHE: "yes" })).toThrow(
      /AAT_CODE_CACHE is "yes": expected on \(the default\) or off/,
    );
  });
});
