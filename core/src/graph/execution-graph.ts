import type { PlanDefinition, StepDefinition } from "../plan/schema.js";
import type { DocPath } from "../plan/structure.js";
import { type AdvanceOptions, advanceRun, pendingCommands, startRun } from "./decider.js";
import { type ExecuteOptions, executeStep } from "./execute.js";
import { buildScope } from "./scope.js";
import type { Command, Decision, ExpressionScope, NodeHandler, RunEvent, RunState } from "./types.js";

/** Id of the top-level flow. */
export const ROOT_FLOW = "root";
/** Key, step id and flow id of the synthetic step that evaluates the plan's `outputs`. */
export const OUTPUT_STEP = "$output";

/** An expression or template compiled once, at load time. */
export interface CompiledField {
  readonly kind: "expression" | "template";
  evaluate(data: unknown): Promise<unknown>;
  /** The value without a promise, or `NEEDS_JSONATA` (from expr) when only `evaluate` can compute it. */
  evaluateNow(data: unknown): unknown;
}

export interface GraphStep {
  readonly id: string;
  readonly def: StepDefinition;
  readonly handler: NodeHandler;
  /** Where the step is written, e.g. ["steps", 1, "branches", 0, "steps", 2]. */
  readonly path: DocPath;
  readonly flow: string;
  /** Successor when the step does not choose one; undefined ends the flow. */
  readonly next?: string;
  /** Compiled expression fields by `ExpressionField.key` ("with", "cases.0.when", …). */
  readonly fields: ReadonlyMap<string, CompiledField>;
  /** Ids of the parallel/map steps this step sits inside, innermost first. */
  readonly ancestors: ReadonlySet<string>;
  /** The innermost enclosing map: its iterations are the step's scope. Undefined = top-level scope. */
  readonly scope?: string;
  /** Parallel: one flow per branch; map: the body flow; other steps: none. */
  readonly childFlows: readonly string[];
  /** Map steps: ids of the steps whose keys live directly in one of its iterations. */
  readonly iterationSteps: readonly string[];
}

export interface GraphFlow {
  /** `root`, `${containerId}#${branchIndex}` or `$output`. */
  readonly id: string;
  readonly container?: string;
  readonly branchIndex?: number;
  readonly first: string;
  readonly steps: readonly string[];
}

export interface ExecutionGraphParts {
  plan: PlanDefinition;
  steps: ReadonlyMap<string, GraphStep>;
  flows: ReadonlyMap<string, GraphFlow>;
  /** Steps whose keys have no iteration prefix (visible as `steps.<id>` everywhere). */
  rootScopeSteps: readonly string[];
  /** True when the plan has `outputs`: the `$output` step runs after the top-level flow. */
  hasOutputs: boolean;
  services: Readonly<Record<string, unknown>>;
}

/**
 * A compiled plan: the steps with their handlers and compiled expressions, and the decider over them.
 * Immutable and shared by every run of one plan version.
 */
export class ExecutionGraph {
  readonly plan: PlanDefinition;
  readonly steps: ReadonlyMap<string, GraphStep>;
  readonly flows: ReadonlyMap<string, GraphFlow>;
  readonly rootScopeSteps: readonly string[];
  readonly hasOutputs: boolean;
  readonly services: Readonly<Record<string, unknown>>;
  /**
   * Whether a run's `steps` record stays small (no map, at most 100 steps), so V8 keeps it in
   * fast-property mode and a spread is the cheapest copy; larger records are copied key by key.
   */
  readonly smallRecords: boolean;

  constructor(parts: ExecutionGraphParts) {
    this.plan = parts.plan;
    this.steps = parts.steps;
    this.flows = parts.flows;
    this.rootScopeSteps = parts.rootScopeSteps;
    this.hasOutputs = parts.hasOutputs;
    this.services = parts.services;
    let hasMap = false;
    for (const step of parts.steps.values()) if (step.def.type === "map") hasMap = true;
    this.smallRecords = !hasMap && parts.steps.size <= 100;
  }

  /** The step with this id; throws for an id the plan does not have. */
  step(id: string): GraphStep {
    const step = this.steps.get(id);
    if (!step) throw new Error(`plan "${this.plan.id}" has no step "${id}"`);
    return step;
  }

  flow(id: string): GraphFlow {
    const flow = this.flows.get(id);
    if (!flow) throw new Error(`plan "${this.plan.id}" has no flow "${id}"`);
    return flow;
  }

  /** Apply `run.started`: the initial state (version 1) and the first step's commands. */
  start(event: Extract<RunEvent, { type: "run.started" }>): Decision {
    return startRun(this, event);
  }

  /** Apply one event. Pure: the input state is not changed; stale and duplicate events are not accepted. */
  advance(state: RunState, event: RunEvent, options?: AdvanceOptions): Decision {
    return advanceRun(this, state, event, options);
  }

  /** Run one `execute` command's step and report what happened as an event. Never rejects for handler errors. */
  execute(
    state: RunState,
    command: Extract<Command, { type: "execute" }>,
    options: ExecuteOptions,
  ): Promise<RunEvent> {
    return Promise.resolve(executeStep(this, state, command, options));
  }

  /**
   * `execute` for hot paths: the event itself, without a promise, when the step answered at once
   * (pure steps with simple expressions), so a chain of inline steps costs no promise round trips.
   */
  executeNowOrLater(
    state: RunState,
    command: Extract<Command, { type: "execute" }>,
    options: ExecuteOptions,
  ): RunEvent | Promise<RunEvent> {
    return executeStep(this, state, command, options);
  }

  /** What expressions of the step instance `key` see. */
  scope(state: RunState, key: string): ExpressionScope {
    return buildScope(this, state, key);
  }

  /** The step's `timeout` in milliseconds, if it has one. */
  stepTimeout(stepId: string): number | undefined {
    return this.steps.get(stepId)?.def.timeout;
  }

  /**
   * Commands that re-create the effects a run in this state is waiting for: executes of queued steps,
   * armed timers, open approvals, started child runs, or the finish of a terminal run. Issuing them
   * again is harmless (dedupe ids, timer ids and child run ids are deterministic).
   */
  pendingCommands(state: RunState): Command[] {
    return pendingCommands(this, state);
  }
}
