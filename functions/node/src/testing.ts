import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { startNodeRuntime } from "./runtime.js";

/** The Node runtime a client's tests talk to (the SDK's and the CLI's). */
export interface TestRuntime {
  url: string;
  /** The admin key the runtime generated at its first start. */
  adminKey: string;
  stop(): Promise<void>;
}

export interface TestRuntimeOptions {
  /** Plan folders to load (no watching). */
  plans: string[];
  /** Prefix of the temp data directory, to tell the tests' leftovers apart. */
  prefix?: string;
  /** More configuration sections (e.g. `models`), as in aat.config.json. */
  config?: Record<string, unknown>;
}

/**
 * The real Node runtime in this process, as `npm start` runs it: SQLite in a fresh temp data
 * directory, an ephemeral loopback port, a generated admin key, silent logs. `stop()` stops it and
 * removes the data directory.
 */
export async function startTestRuntime({
  plans,
  prefix = "aat-test-",
  config = {},
}: TestRuntimeOptions): Promise<TestRuntime> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  try {
    const runtime = await startNodeRuntime({
      config: aatConfigSchema.parse({
        ...config,
        dataDir,
        server: { host: "127.0.0.1", port: 0 },
        plans: { directories: plans, watch: false },
        telemetry: { logLevel: "silent" },
      }),
      print: () => {},
      siteDir: join(dataDir, "no-site"),
    });
    const adminKey = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
    if (!adminKey || !runtime.url) {
      await runtime.stop();
      throw new Error("the test runtime did not start with a fresh admin key and a URL");
    }
    return {
      url: runtime.url,
      adminKey,
      async stop() {
        await runtime.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
