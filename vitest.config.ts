import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "core/test/**/*.test.ts",
      "adapters/*/test/**/*.test.ts",
      "functions/*/test/**/*.test.ts",
      "sdk/test/**/*.test.ts",
      "cli/test/**/*.test.ts",
      "coding/test/**/*.test.ts",
      "infra-*/test/**/*.test.ts",
      "site/test/**/*.test.ts",
    ],
    // Integration suites that need real servers live in *.int.test.ts and run via test:integration.
    // Browser suites (*.e2e.test.ts) need a build and Chromium: npm run test:e2e.
    exclude: ["**/node_modules/**", "**/*.int.test.ts", "**/*.e2e.test.ts"],
    testTimeout: 20_000,
    // Bundles the `aat` CLI once per run, so its tests spawn plain `node` instead of tsx each time.
    globalSetup: ["cli/test/global-setup.ts"],
  },
});
