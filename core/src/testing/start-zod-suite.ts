import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type startInputs, zodAtStart } from "./bundle-graph.js";

type StartBundle = Parameters<typeof startInputs>[0] & { name: string };

/**
 * The test each serverless target runs on its own bundles: a cold start loads zod/mini and zod core with
 * English messages only; classic zod and other locales load on first use. `packageDir` is the target's
 * folder: the bundles are written under it, so nothing resolves differently from a real build.
 */
export function startZodSuite(
  host: string,
  bundleHandlers: (outDir: string) => Promise<StartBundle[]>,
  packageDir: URL,
): void {
  const out = mkdtempSync(join(fileURLToPath(packageDir), ".start-zod-test-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  describe(`zod in what a ${host} handler's cold start loads`, () => {
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
}
