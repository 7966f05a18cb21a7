import { NEEDS_JSONATA } from "../expr/index.js";
import type { TextDeltaSink } from "../models/text-deltas.js";
import type { PlanDefinition } from "../plan/schema.js";
import { InfrastructureError, isJsonataError, StepFailure, toStepError } from "./errors.js";
import type { ExecutionGraph, GraphStep } from "./execution-graph.js";
import { dedupeIdOf } from "./keys.js";
import { buildScope } from "./scope.js";
import { isTruthy } from "./truthy.js";
import type {
  Command,
  ExpressionScope,
  NodeResult,
  RunEvent,
  RunState,
  StepContext,
  StepJournal,
  StepProgress,
  StepState,
} from "./types.js";

export interface ExecuteOptions {
  /** Merged over the factory's services for this execution. */
  services?: Readonly<Record<string, unknown>>;
  /** Aborted when the attempt should stop (timeout, shutdown). */
  signal?: AbortSignal;
  /** The executor's clock (epoch ms), used for the event time and by handlers (`ctx.now()`). */
  at: () => number;
  /** Durable per-step records (agent loops); see StepContext.journal. */
  journal?: StepJournal;
  /** Stores an event in the run's log (the runner's `deliver`); StepContext.report writes through it. */
  deliver?: (runId: string, event: RunEvent) => Promise<unknown>;
  /** Live model text of agent steps (chat); see models/text-deltas.ts. */
  onTextDelta?: TextDeltaSink;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * Run one attempt of one step and report it as the event the decider expects: `step.skipped` when
 * its `if` is false, `step.succeeded` / `step.suspended` from the handler's result, `step.failed`
 * for anything thrown (never rejects for handler errors).
 *
 * The event comes back without a promise when the step could answer at once (its `if` is simple and
 * its handler returned a result rather than a promise): pure steps such as `set` and `branch` then cost
 * the runner no promise round trips. Callers may simply `await` the result either way.
 */
export function executeStep(
  graph: ExecutionGraph,
  state: RunState,
  command: Extract<Command, { type: "execute" }>,
  options: ExecuteOptions,
): RunEvent | Promise<RunEvent> {
  const node = graph.steps.get(command.stepId);
  if (!node) {
    return {
      type: "step.failed",
      key: command.key,
      attempt: command.attempt,
      at: options.at(),
      error: {
        message: `plan "${graph.plan.id}" has no step "${command.stepId}"`,
        code: "unknown_step",
        retryable: false,
      },
    };
  }
  try {
    const ctx = new AttemptContext(graph, node, state, command, options);
    if (node.def.if !== undefined) {
      const test = ctx.evaluateNow("if");
      if (test === undefined) return executeAfterCondition(node, ctx, command, options);
      if (!isTruthy(test.value)) return skipped(command, options);
    }
    const result = node.handler.execute(node.def, ctx);
    if (!isPromiseLike(result)) return reported(result, command, options);
    return Promise.resolve(result)
      .then((answer) => reported(answer, command, options))
      .catch((error: unknown) => failed(error, command, options));
  } catch (error) {
    return failed(error, command, options);
  }
}

/** The general path: an `if` that needs JSONata proper, then the handler. */
async function executeAfterCondition(
  node: GraphStep,
  ctx: AttemptContext,
  command: Extract<Command, { type: "execute" }>,
  options: ExecuteOptions,
): Promise<RunEvent> {
  try {
    if (!isTruthy(await ctx.evaluate("if"))) return skipped(command, options);
    return reported(await node.handler.execute(node.def, ctx), command, options);
  } catch (error) {
    return failed(error, command, options);
  }
}

function reported(result: NodeResult, command: ExecuteCommand, options: ExecuteOptions): RunEvent {
  const { key, attempt } = command;
  if (result.kind === "done") {
    const event: Extract<RunEvent, { type: "step.succeeded" }> = {
      type: "step.succeeded",
      key,
      attempt,
      output: result.output,
      at: options.at(),
    };
    if (result.next !== undefined) event.next = result.next;
    if (command.resume) event.resume = command.resume;
    return event;
  }
  const event: RunEvent = {
    type: "step.suspended",
    key,
    attempt,
    suspension: result.suspension,
    at: options.at(),
  };
  if (command.resume) event.resume = command.resume;
  return event;
}

function skipped(command: ExecuteCommand, options: ExecuteOptions): RunEvent {
  return { type: "step.skipped", key: command.key, attempt: command.attempt, at: options.at() };
}

function failed(error: unknown, command: ExecuteCommand, options: ExecuteOptions): RunEvent {
  // Not the step's failure: the executor's caller retries the delivery (see InfrastructureError).
  if (error instanceof InfrastructureError) throw error;
  const event: RunEvent = {
    type: "step.failed",
    key: command.key,
    attempt: command.attempt,
    error: toStepError(error),
    at: options.at(),
  };
  if (command.resume) event.resume = command.resume;
  return event;
}

type ExecuteCommand = Extract<Command, { type: "execute" }>;

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === "function";
}

/** The handler's view of one attempt. A class, so no closures are created per execution. */
class AttemptContext implements StepContext {
  readonly runId: string;
  readonly key: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly scope: ExpressionScope;
  readonly signal: AbortSignal;
  readonly services: Readonly<Record<string, unknown>>;
  readonly plan: PlanDefinition;
  readonly successor?: string;
  readonly step?: StepState;
  readonly journal?: StepJournal;

  constructor(
    graph: ExecutionGraph,
    private readonly node: GraphStep,
    state: RunState,
    command: Extract<Command, { type: "execute" }>,
    private readonly options: ExecuteOptions,
  ) {
    this.runId = command.runId;
    this.key = command.key;
    this.attempt = command.attempt;
    // The command carries this id already (`${runId}/${key}/${attempt}`); building it again costs a string per step.
    this.idempotencyKey = command.dedupeId || dedupeIdOf(command.runId, command.key, command.attempt);
    this.scope = buildScope(graph, state, command.key);
    this.signal = options.signal ?? NEVER_ABORTED;
    this.services = servicesFor(graph, options.services);
    this.plan = graph.plan;
    if (node.next !== undefined) this.successor = node.next;
    const step = state.steps[command.key];
    if (step !== undefined) this.step = step;
    if (options.journal !== undefined) this.journal = options.journal;
    const sink = options.onTextDelta;
    if (sink !== undefined) this.onTextDelta = (delta) => sink(this.runId, this.key, delta);
  }

  readonly onTextDelta?: (delta: string) => void;

  async report(seq: number, progress: StepProgress): Promise<void> {
    const deliver = this.options.deliver;
    if (deliver === undefined) return;
    const event: RunEvent = {
      type: "step.progress",
      key: this.key,
      attempt: this.attempt,
      seq,
      progress,
      at: this.options.at(),
    };
    const resume = this.step?.resumes;
    if (resume) event.resume = resume;
    await deliver(this.runId, event);
  }

  evaluate(field: string): Promise<unknown> {
    const now = this.evaluateNow(field);
    return now !== undefined ? Promise.resolve(now.value) : evaluateField(this.node, field, this.scope);
  }

  evaluateNow(field: string): { value: unknown } | undefined {
    const compiled = this.node.fields.get(field);
    if (compiled === undefined) return undefined; // `evaluate` reports the unknown field
    let value: unknown;
    try {
      value = compiled.evaluateNow(this.scope);
    } catch {
      return undefined; // `evaluate` reports the error with the field's name
    }
    return value === NEEDS_JSONATA ? undefined : { value };
  }

  now(): number {
    return this.options.at();
  }
}

const merged = new WeakMap<ExecutionGraph, WeakMap<object, Readonly<Record<string, unknown>>>>();

/** The factory's services with the executor's on top, merged once per (graph, services object). */
function servicesFor(
  graph: ExecutionGraph,
  extra: Readonly<Record<string, unknown>> | undefined,
): Readonly<Record<string, unknown>> {
  if (extra === undefined || extra === graph.services) return graph.services;
  let byExtra = merged.get(graph);
  if (!byExtra) {
    byExtra = new WeakMap();
    merged.set(graph, byExtra);
  }
  let services = byExtra.get(extra);
  if (!services) {
    services = { ...graph.services, ...extra };
    byExtra.set(extra, services);
  }
  return services;
}

async function evaluateField(node: GraphStep, field: string, scope: ExpressionScope): Promise<unknown> {
  const compiled = node.fields.get(field);
  if (!compiled) {
    throw new StepFailure(
      `step "${node.id}" has no expression field "${field}" (fields: ${[...node.fields.keys()].join(", ") || "none"})`,
      { code: "internal", retryable: false },
    );
  }
  try {
    return await compiled.evaluate(scope);
  } catch (error) {
    if (isJsonataError(error) && !(error instanceof Error)) {
      throw new StepFailure(`step "${node.id}" field "${field}": ${error.message}`, {
        code: "expression",
        retryable: false,
        details: {
          field,
          jsonataCode: error.code,
          ...(error.position !== undefined ? { position: error.position } : {}),
        },
      });
    }
    throw error;
  }
}
