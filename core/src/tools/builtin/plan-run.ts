import * as z from "zod/mini";
import { planId } from "../../plan/schema.js";
import { installZodDefaults } from "../../zod-defaults.js";
import { ToolError } from "../errors.js";
import { onFirstUse } from "../first-use.js";
import type { Tool } from "../types.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

/** Starts a run; the runtime passes `(request) => runner.start(request)`. Idempotent on `runId`. */
export type StartPlanRun = (request: {
  planId: string;
  version?: number;
  input?: unknown;
  runId?: string;
}) => Promise<{ runId: string; created?: boolean; state: { status: string } }>;

const input = onFirstUse(() =>
  z.strictObject({
    planId,
    version: z.optional(z.int().check(z.minimum(1))),
    input: z._default(z.json(), {}),
  }),
);
const output = onFirstUse(() =>
  z.strictObject({ runId: z.string(), status: z.string(), created: z.boolean() }),
);

/**
 * `plan.run`: start another published plan and return at once with its run id and status (it does
 * not wait; a `plan` step is the way to wait for a sub-plan's output). The child run id is derived
 * from the call's idempotency key and request, so a repeated delivery of the same call starts one run.
 */
export function planRunTool(
  startRun: StartPlanRun,
): Tool<z.output<ReturnType<typeof input>>, z.output<ReturnType<typeof output>>> {
  return {
    name: "plan.run",
    description:
      "Start another plan by id (optionally a version) with an input; returns its runId and status without waiting for it to finish.",
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    capabilities: ["plan.run"],
    async run(request, ctx) {
      const runId = childRunId(ctx.idempotencyKey, ctx.runId, request);
      try {
        const started = await startRun({
          planId: request.planId,
          ...(request.version !== undefined ? { version: request.version } : {}),
          input: request.input,
          runId,
        });
        ctx.logger.info(
          { childRunId: started.runId, planId: request.planId, created: started.created ?? true },
          "plan.run started",
        );
        return { runId: started.runId, status: started.state.status, created: started.created ?? true };
      } catch (error) {
        throw startFailure(request.planId, error);
      }
    },
  };
}

/** `<parent run>~plan.run~<hash>`: stable for one call, different for a different plan, version or input. */
function childRunId(
  idempotencyKey: string,
  parentRunId: string,
  request: z.output<ReturnType<typeof input>>,
): string {
  // node:crypto costs ~3 ms of a serverless cold start to load; loaded on first use (docs/benchmarks.md, cold start).
  const digest = process
    .getBuiltinModule("node:crypto")
    .createHash("sha256")
    .update(
      JSON.stringify([idempotencyKey, request.planId, request.version ?? null, canonical(request.input)]),
    )
    .digest("hex")
    .slice(0, 24);
  return `${parentRunId}~plan.run~${digest}`;
}

/** JSON with object keys sorted, so equal inputs written in another key order hash alike. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

function startFailure(planIdValue: string, error: unknown): ToolError {
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  // A missing plan or an input its schema refuses fails the same way every time.
  const permanent = name === "PlanNotFoundError" || name === "RunInputError";
  return new ToolError(`could not start plan "${planIdValue}": ${message}`, {
    code: permanent ? (name === "PlanNotFoundError" ? "plan_not_found" : "validation") : "start_failed",
    retryable: !permanent,
  });
}
