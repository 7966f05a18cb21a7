import { defineConfig } from "vitest/config";

/**
 * Integration suites: tests against real servers (Redis, NATS, RabbitMQ, …) found by URL from the
 * environment with local defaults. `scripts/services.sh` starts what is not running.
 */
export default defineConfig({
  test: {
    include: [
      "core/test/**/*.int.test.ts",
      "adapters/*/test/**/*.int.test.ts",
      "functions/*/test/**/*.int.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites share real servers; running files one at a time keeps timings and load predictable.
    fileParallelism: false,
  },
});
