import { createHash } from "node:crypto";
import { z } from "zod";
import { hashPayload } from "../dedupe/canonical-json.js";
import { type RunState, TERMINAL_RUN_STATUSES } from "../graph/types.js";
import type { Planner } from "../plan/planner.js";
import type { StoredPlan } from "../plan/repository.js";
import type { Workflow } from "../plan/schema.js";
import type { KeyValue } from "../ports/kv.js";
import { newRunId } from "../runner/run-store.js";
import type { Runner } from "../runner/runner.js";
import type { PlanStore } from "./deps.js";
import type { PlanInputValidator } from "./plan-input.js";
import { ApiProblem } from "./problem.js";

export interface StartRunInput {
  planId?: string;
  version?: number;
  workflow?: Workflow;
  event?: string;
  input: unknown;
  idempotencyKey?: string;
}

export interface StartedRun {
  runId: string;
  state: RunState;
  /** False when the idempotency key named a run started before. */
  created: boolean;
}

/** What an idempotency key remembers: the run it named and the request that created it. */
const idempotencyRecord = z.object({
  runId: z.string(),
  planId: z.string(),
  version: z.number().int(),
  requestHash: z.string(),
});
type IdempotencyRecord = z.infer<typeof idempotencyRecord>;

export interface RunStarterDeps {
  runner: Runner;
  plans: PlanStore;
  planner: Planner;
  kv: KeyValue;
  inputs: PlanInputValidator;
  /** How long an idempotency key is remembered. */
  idempotencyTtlMs: number;
}

/**
 * POST /v1/runs: resolve the plan (by id, or through the planner), check the input, then start.
 *
 * With an idempotency key, key → runId is stored with setIfAbsent *before* the run starts and the run
 * is started with that id. Runner.start is idempotent on the run id, so a crash between the two is
 * healed by the client's retry, and concurrent retries all get the one run.
 */
export class RunStarter {
  constructor(private readonly deps: RunStarterDeps) {}

  async start(request: StartRunInput, principalId: string): Promise<StartedRun> {
    const plan = await this.resolvePlan(request);
    const { definition, version } = plan;
    this.deps.inputs.check(definition, version, request.input);

    if (request.idempotencyKey === undefined) {
      const started = await this.deps.runner.start({
        planId: definition.id,
        version,
        input: request.input,
        inputChecked: true,
      });
      return { runId: started.runId, state: started.state, created: started.created };
    }

    const key = idempotencyKvKey(principalId, request.idempotencyKey);
    const requestHash = hashPayload({
      planId: request.planId ?? null,
      version: request.version ?? null,
      workflow: request.workflow ?? null,
      event: request.event ?? null,
      input: request.input ?? null,
    });
    const fresh: IdempotencyRecord = { runId: newRunId(), planId: definition.id, version, requestHash };
    const claimed = await this.deps.kv.setIfAbsent(key, fresh, { ttlMs: this.deps.idempotencyTtlMs });
    if (claimed.ok) {
      try {
        const started = await this.deps.runner.start({
          planId: fresh.planId,
          version: fresh.version,
          input: request.input,
          runId: fresh.runId,
          inputChecked: true,
        });
        return { runId: started.runId, state: started.state, created: true };
      } catch (error) {
        // When the run was stored before the failure (say the queue refused its first step), keep the key:
        // a retry then finds that run and re-issues its pending work instead of starting a second run.
        // Only when nothing was stored is the key forgotten, so the request leaves no trace.
        const stored = await this.deps.runner.load(fresh.runId).catch(() => undefined);
        if (!stored) await this.deps.kv.delete(key, { expectedVersion: claimed.version }).catch(() => false);
        throw error;
      }
    }
    const existing = idempotencyRecord.safeParse(claimed.current?.value);
    if (!existing.success) {
      throw new Error(`idempotency record ${key} is not readable: ${existing.error.message}`);
    }
    if (existing.data.requestHash !== requestHash) {
      throw new ApiProblem(409, {
        kind: "idempotency-key-reused",
        detail: `idempotencyKey "${request.idempotencyKey}" was used for a different request (run ${existing.data.runId}); use a new key for a new run`,
        extra: { runId: existing.data.runId },
      });
    }
    // Same request again: start (or find) the run the key names, pinned to the plan chosen the first time.
    const started = await this.deps.runner.start({
      planId: existing.data.planId,
      version: existing.data.version,
      input: request.input,
      runId: existing.data.runId,
    });
    if (!started.created && !TERMINAL_RUN_STATUSES.includes(started.state.status)) {
      // The first attempt may have stored the run and failed before its work was enqueued: re-issue it
      // (dedupe ids make this harmless when it was enqueued after all).
      const state = (await this.deps.runner.reconcile(started.runId)) ?? started.state;
      return { runId: started.runId, state, created: false };
    }
    return { runId: started.runId, state: started.state, created: false };
  }

  private async resolvePlan(request: StartRunInput): Promise<StoredPlan> {
    if (request.planId !== undefined) {
      const plan = await this.deps.plans.get(request.planId, request.version);
      if (!plan) {
        throw new ApiProblem(404, {
          kind: "not-found",
          detail:
            request.version === undefined
              ? `plan "${request.planId}" does not exist; GET /v1/plans lists the plans`
              : `plan "${request.planId}" has no version ${request.version}; GET /v1/plans/${request.planId} lists its versions`,
          extra: { planId: request.planId },
        });
      }
      if (request.workflow !== undefined && plan.definition.workflow !== request.workflow) {
        throw new ApiProblem(422, {
          kind: "validation",
          detail: `plan "${request.planId}" belongs to workflow "${plan.definition.workflow}", not "${request.workflow}"`,
          errors: [
            {
              path: "workflow",
              message: `must be "${plan.definition.workflow}" for plan "${request.planId}" (or left out)`,
            },
          ],
        });
      }
      return plan;
    }
    const match = await this.deps.planner.match({
      ...(request.workflow !== undefined ? { workflow: request.workflow } : {}),
      ...(request.event !== undefined ? { event: request.event } : {}),
      input: request.input,
    });
    if (!match.ok) {
      throw new ApiProblem(422, {
        kind: "no-matching-plan",
        detail: match.reason,
        extra: { candidates: match.candidates },
      });
    }
    return match.plan;
  }
}

/** Keys are scoped to the caller (one caller cannot find another's runs by guessing keys) and hashed. */
function idempotencyKvKey(principalId: string, key: string): string {
  return `api/idempotency/runs/${createHash("sha256").update(`${principalId}\n${key}`).digest("hex")}`;
}
