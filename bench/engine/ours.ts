import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  createRunner,
  type PlanDefinition,
  type PlanSource,
  planDefinition,
  type WorkMessage,
} from "@aat/core";

/**
 * A chain of `steps` set steps. `computed`: each step adds one to the previous step's counter through a
 * JSONata expression (the same work the LangGraph nodes do in JavaScript). `static`: each step sets a
 * literal, so only the engine's own overhead is measured.
 */
export function chainPlan(steps: number, mode: "computed" | "static"): PlanDefinition {
  return planDefinition.parse({
    id: `bench.chain.${mode}`,
    workflow: "automation",
    title: `${steps} set steps`,
    steps: Array.from({ length: steps }, (_, i) => ({
      id: `s${i}`,
      type: "set",
      values:
        mode === "static"
          ? { n: i + 1 }
          : { n: i === 0 ? "{% input.n + 1 %}" : `{% steps.s${i - 1}.output.n + 1 %}` },
    })),
  });
}

/** Our engine on the in-process memory adapters: every step is checkpointed to the run's event log. */
export function buildOurChain(definition: PlanDefinition) {
  const kv = new MemoryKeyValue();
  const queue = new MemoryQueue<WorkMessage>({ name: "bench" });
  const plans: PlanSource = {
    get: async (id, version) =>
      id === definition.id && (version ?? 1) === 1 ? { definition, version: 1 } : undefined,
  };
  const runner = createRunner({ kv, queue, plans });
  return async (runId: string): Promise<unknown> => {
    const { state } = await runner.start({ planId: definition.id, input: { n: 0 }, runId });
    if (state.status !== "succeeded") throw new Error(`bench run ${runId} ended ${state.status}`);
    return state.output;
  };
}
