import { isJsonataError, StepFailure, toStepError } from "./errors.js";
import type { ExecutionGraph, GraphStep } from "./execution-graph.js";
import { dedupeIdOf } from "./keys.js";
import { buildScope } from "./scope.js";
import { isTruthy } from "./truthy.js";
import type { Command, ExpressionScope, RunEvent, RunState, StepContext } from "./types.js";

export interface ExecuteOptions {
  /** Merged over the factory's services for this execution. */
  services?: Readonly<Record<string, unknown>>;
  /** Aborted when the attempt should stop (timeout, shutdown). */
  signal?: AbortSignal;
  /** The executor's clock (epoch ms), used for the event time and by handlers (`ctx.now()`). */
  at: () => number;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * Run one attempt of one step and report it as the event the decider expects: `step.skipped` when
 * its `if` is false, `step.succeeded` / `step.suspended` from the handler's result, `step.failed`
 * for anything thrown (never rejects for handler errors).
 */
export async function executeStep(
  graph: ExecutionGraph,
  state: RunState,
  command: Extract<Command, { type: "execute" }>,
  options: ExecuteOptions,
): Promise<RunEvent> {
  const { key, attempt } = command;
  const node = graph.steps.get(command.stepId);
  if (!node) {
    return {
      type: "step.failed",
      key,
      attempt,
      at: options.at(),
      error: {
        message: `plan "${graph.plan.id}" has no step "${command.stepId}"`,
        code: "unknown_step",
        retryable: false,
      },
    };
  }
  try {
    const ctx = stepContext(graph, node, state, command, options);
    if (node.def.if !== undefined && !isTruthy(await ctx.evaluate("if"))) {
      return { type: "step.skipped", key, attempt, at: options.at() };
    }
    const result = await node.handler.execute(node.def, ctx);
    if (result.kind === "done") {
      return {
        type: "step.succeeded",
        key,
        attempt,
        output: result.output,
        ...(result.next !== undefined ? { next: result.next } : {}),
        at: options.at(),
      };
    }
    return { type: "step.suspended", key, attempt, suspension: result.suspension, at: options.at() };
  } catch (error) {
    return { type: "step.failed", key, attempt, error: toStepError(error), at: options.at() };
  }
}

function stepContext(
  graph: ExecutionGraph,
  node: GraphStep,
  state: RunState,
  command: Extract<Command, { type: "execute" }>,
  options: ExecuteOptions,
): StepContext {
  const scope: ExpressionScope = buildScope(graph, state, command.key);
  return {
    runId: command.runId,
    key: command.key,
    attempt: command.attempt,
    idempotencyKey: dedupeIdOf(command.runId, command.key, command.attempt),
    scope,
    evaluate: (field) => evaluateField(node, field, scope),
    signal: options.signal ?? NEVER_ABORTED,
    services: options.services ? { ...graph.services, ...options.services } : graph.services,
    now: options.at,
    plan: graph.plan,
    ...(node.next !== undefined ? { successor: node.next } : {}),
  };
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
