import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { zodAtStart } from "@aat/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { bundleHandlers } from "../src/bundle.js";

// Under the repository, so nothing resolves differently from a real build.
const out = mkdtempSync(join(fileURLToPath(new URL("../", import.meta.url)), ".start-zod-test-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("zod in what a Azure Functions handler's cold start loads", () => {
  it("is zod/mini and zod core with English messages only: classic zod and other locales load on first use", async () => {
    for (const bundle of await bundleHandlers(out))
      expect(zodAtStart(bundle), bundle.name).toEqual({
        classic: [],
        otherLocales: [],
        mini: true,
        english: true,
      });
  }, 120_000); // bundles every handler: esbuild on a loaded machine takes longer than the default 20 s
});
