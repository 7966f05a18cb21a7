import { describe, expect, it } from "vitest";
import { codeCacheFromEnv } from "../src/bundles.js";

describe("the code cache a synth ships (AAT_CODE_CACHE_NODE, AAT_CODE_CACHE_V8_FLAGS)", () => {
  it("is off unless the runtime's node binary is named", () => {
    expect(codeCacheFromEnv({})).toBeUndefined();
    expect(codeCacheFromEnv({ AAT_CODE_CACHE_NODE: "  " })).toBeUndefined();
  });

  it("is made by that binary, with the V8 flags the runtime starts node with", () => {
    expect(codeCacheFromEnv({ AAT_CODE_CACHE_NODE: "/opt/node22/bin/node" })).toEqual([
      { node: "/opt/node22/bin/node" },
    ]);
    expect(
      codeCacheFromEnv({
        AAT_CODE_CACHE_NODE: "/opt/node22/bin/node",
        AAT_CODE_CACHE_V8_FLAGS: " --expose-gc  --max-semi-space-size=16 ",
      }),
    ).toEqual([{ node: "/opt/node22/bin/node", flags: ["--expose-gc", "--max-semi-space-size=16"] }]);
  });

  it("refuses flags without a binary, saying what is missing", () => {
    expect(() => codeCacheFromEnv({ AAT_CODE_CACHE_V8_FLAGS: "--expose-gc" })).toThrow(
      /AAT_CODE_CACHE_V8_FLAGS is set without AAT_CODE_CACHE_NODE/,
    );
  });
});
