import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { aatConfigSchema } from "@aat/core";
import { startNodeRuntime } from "@aat/functions-node";

export const FIXTURE_PLANS = fileURLToPath(new URL("./fixtures/plans", import.meta.url));
export const SHIPPED_PLANS = fileURLToPath(new URL("../../plans", import.meta.url));

export interface TestRuntime {
  url: string;
  adminKey: string;
  stop(): Promise<void>;
}

/** The real Node runtime in this process: SQLite under a temp dir, an ephemeral loopback port. */
export async function startTestRuntime(
  plans: string[] = [SHIPPED_PLANS, FIXTURE_PLANS],
): Promise<TestRuntime> {
  const dataDir = await mkdtemp(join(tmpdir(), "aat-sdk-test-"));
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { host: "127.0.0.1", port: 0 },
      plans: { directories: plans, watch: false },
      telemetry: { logLevel: "silent" },
    }),
    print: () => {},
    siteDir: join(dataDir, "no-site"),
  });
  const adminKey = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  if (!adminKey || !runtime.url) throw new Error("the runtime did not start with a fresh admin key");
  return {
    url: runtime.url,
    adminKey,
    async stop() {
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
