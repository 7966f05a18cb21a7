import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startInputs } from "@aat/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { bundleHandlers } from "../src/bundle.js";

// Under the repository, so nothing resolves differently from a real build.
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".start-zod-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("zod in what a Cloud Run function handler's cold start loads", () => {
  it("is zod/mini and zod core with English messages only: classic zod and other locales load on first use", async () => {
    for (const bundle of await bundleHandlers(out)) {
      const inputs = startInputs(bundle);
      expect(
        inputs.filter((input) => input.includes("node_modules/zod/v4/classic/")),
        bundle.name,
      ).toEqual([]);
      expect(
        inputs.filter((input) => /zod\/v4\/locales\/(?!en\.js)/.test(input)),
        bundle.name,
      ).toEqual([]);
      expect(
        inputs.some((input) => input.includes("node_modules/zod/v4/mini/")),
        bundle.name,
      ).toBe(true);
      expect(
        inputs.some((input) => input.endsWith("zod/v4/locales/en.js")),
        bundle.name,
      ).toBe(true);
    }
  });
});
