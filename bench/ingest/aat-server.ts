/**
 * The aat node runtime, role api, with KV=redis and QUEUE=nats, serving one plan with a signed webhook
 * trigger: the server the ingest bench loads. Started by bench/ingest/index.ts in a process of its own.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { startNodeRuntime } from "@aat/functions-node";
import { reportReady, SECRET, SECRET_NAME, serverEnv, TRIGGER_ID } from "./protocol.js";
import { stubTool, WEBHOOK_PLAN } from "./webhook-plan.js";

const env = serverEnv.parse(process.env);
const dir = mkdtempSync(join(tmpdir(), "aat-bench-ingest-"));
const plansDir = join(dir, "plans");
mkdirSync(plansDir);
writeFileSync(join(plansDir, "bench.hook.yaml"), WEBHOOK_PLAN);

const config = aatConfigSchema.parse({
  dataDir: join(dir, "data"),
  server: { port: 0, host: "127.0.0.1", role: "api", shutdownGraceMs: 1000 },
  auth: { mode: "none", allowNone: true },
  plans: { directories: [plansDir], watch: false },
  kv: { kind: "redis", redis: { url: env.BENCH_REDIS_URL, keyPrefix: env.BENCH_KEY_PREFIX } },
  queue: {
    kind: "nats",
    nats: {
      servers: [env.BENCH_NATS_URL],
      stream: env.BENCH_STREAM,
      subjectPrefix: env.BENCH_STREAM.toLowerCase(),
    },
  },
});
const runtime = await startNodeRuntime({
  config,
  role: "api",
  tools: [stubTool],
  print: () => {},
  env: { [`AAT_SECRET_${SECRET_NAME.toUpperCase()}`]: SECRET },
});
const stop = async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
reportReady(`${runtime.url}/v1/hooks/${TRIGGER_ID}`);
