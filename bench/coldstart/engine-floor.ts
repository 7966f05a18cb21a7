import { loadConfigOnDemand } from "@aat/core/config";
import { KvPlanRepository } from "@aat/core/plan";
import { createRunner } from "@aat/core/runner";

/**
 * A third reference: only the engine a worker's invocation cannot run a step without (the configuration
 * loader and schema, the plan schema and repository with its checks, the runner), bundled like the real
 * handlers. Its import is the floor of any handler that loads the engine at import (docs/benchmarks.md,
 * cold start): the handlers' own import is measured against it.
 */
const engine = [loadConfigOnDemand, KvPlanRepository, createRunner];

export const handler = async () => ({ statusCode: 200, body: `${engine.length} engine parts loaded` });
