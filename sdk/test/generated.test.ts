import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { GENERATED_FILE, renderOpenApiTypes } from "../scripts/spec.js";

describe("sdk/src/generated/openapi.ts", () => {
  it("matches the API's current OpenAPI document (run `npm run sdk:generate` when this fails)", async () => {
    const fresh = await renderOpenApiTypes();
    const committed = await readFile(GENERATED_FILE, "utf8");
    // toBe prints a diff of the two texts; the message says how to fix it.
    expect(
      committed,
      "the SDK's generated types are stale: run `npm run sdk:generate` and commit the result",
    ).toBe(fresh);
  });
});
