import { defineConfig } from "vitest/config";

export const INCLUDE = [
  "core/test/**/*.test.ts",
  "adapters/*/test/**/*.test.ts",
  "functions/*/test/**/*.test.ts",
  "sdk/test/**/*.test.ts",
  "cli/test/**/*.test.ts",
  "coding/test/**/*.test.ts",
  "infra-*/test/**/*.test.ts",
  "site/test/**/*.test.ts",
];

// Integration suites that need real servers live in *.int.test.ts and run via test:integration.
// Browser suites (*.e2e.test.ts) need a build and Chromium: npm run test:e2e.
const EXCLUDE = ["**/node_modules/**", "**/*.int.test.ts", "**/*.e2e.test.ts"];

/**
 * Files that change process-wide state a module graph shares: a module mock (`vi.mock`), or
 * OpenTelemetry's global tracer provider, which a registration leaves in place and whose absence other
 * files assert. They run isolated, each in a fresh module graph.
 */
export const ISOLATED = [
  "core/test/auth/secret-hash.test.ts",
  "core/test/plan/json-schema-reader.test.ts",
  "core/test/telemetry/run-trace.test.ts",
  "core/test/tools/call.test.ts",
  "functions/node/test/tracing-env.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: INCLUDE,
          exclude: [...EXCLUDE, ...ISOLATED],
          // The files of a worker share one module graph: importing core, the adapters and their
          // dependencies again for every file was half of the suite's time (measured: 8.1 → 4.6 min).
          isolate: false,
          // Bundles the `aat` CLI once per run, so its tests spawn plain `node` instead of tsx each time.
          globalSetup: ["cli/test/global-setup.ts"],
        },
      },
      { extends: true, test: { name: "unit-isolated", include: ISOLATED, exclude: EXCLUDE, isolate: true } },
    ],
  },
});
