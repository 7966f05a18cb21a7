import { DedupeService } from "../dedupe/service.js";
import { PlanFactory } from "../graph/factory.js";
import { registerBuiltinHandlers } from "../graph/handlers/index.js";
import type { Clock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";
import type { Queue } from "../ports/queue.js";
import type { PlanSource } from "./graph-cache.js";
import type { WorkMessage } from "./messages.js";
import { Runner, type RunnerOptions } from "./runner.js";

export interface CreateRunnerOptions
  extends Omit<RunnerOptions, "compile" | "dedupe" | "kv" | "queue" | "plans" | "clock"> {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  plans: PlanSource;
  clock?: Clock;
  /** A factory with custom handlers; defaults to one with every built-in handler and `services`. */
  factory?: PlanFactory;
}

/** Wire a Runner with the built-in node handlers and a DedupeService on the same KeyValue store. */
export function createRunner(options: CreateRunnerOptions): Runner {
  const { factory: given, services, ...rest } = options;
  const factory = given ?? registerBuiltinHandlers(new PlanFactory({ ...(services ? { services } : {}) }));
  const dedupe = new DedupeService({ kv: options.kv, ...(options.clock ? { clock: options.clock } : {}) });
  return new Runner({ ...rest, compile: (definition) => factory.compile(definition), dedupe });
}
