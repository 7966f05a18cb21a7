import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { CachePersistenceLayer } from "@aws-lambda-powertools/idempotency/cache";
import { createClient } from "@redis/client";
import type { Idempotent } from "./ours.js";
import { EXPIRES_AFTER_MS } from "./ours.js";

/**
 * `fn` made idempotent with AWS Powertools for Lambda (TypeScript): makeIdempotent with its cache
 * persistence layer on a node-redis client, default settings (no local in-memory cache).
 */
export async function powertoolsOnRedis<P, R>(
  url: string,
  keyPrefix: string,
  fn: (payload: P) => Promise<R>,
): Promise<{ call: Idempotent<P, R>; close: () => Promise<void> }> {
  const client = await createClient({ url }).connect();
  const persistenceStore = new CachePersistenceLayer({ client });
  const config = new IdempotencyConfig({ expiresAfterSeconds: EXPIRES_AFTER_MS / 1000 });
  // As in a Lambda function: the in-progress record lasts the remaining invocation time. Without a
  // context Powertools warns on every call, and the console writes would be timed with it.
  config.registerLambdaContext(lambdaContext);
  const call = makeIdempotent(fn, { persistenceStore, config, keyPrefix }) as Idempotent<P, R>;
  return { call, close: async () => void (await client.close()) };
}

/** The parts of a Lambda invocation context Powertools reads here. */
const lambdaContext = {
  functionName: "bench-dedupe",
  awsRequestId: "bench",
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Parameters<IdempotencyConfig["registerLambdaContext"]>[0];
