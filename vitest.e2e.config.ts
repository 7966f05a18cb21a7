import { defineConfig } from "vitest/config";

/**
 * Browser tests: the built site (site/dist, `npm run build`) served by the real node runtime and
 * driven in Debian's Chromium through playwright-core. One file, one browser, run in order.
 */
export default defineConfig({
  test: {
    include: ["site/test/**/*.e2e.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
