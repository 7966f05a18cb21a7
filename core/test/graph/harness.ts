import { z } from "zod";
import { type ExecutionGraph, PlanFactory } from "../../src/graph/factory.js";
import { registerBuiltinHandlers } from "../../src/graph/handlers/index.js";
import type { Command, Decision, RunEvent, RunState } from "../../src/graph/types.js";
import { type PlanDefinitionInput, planDefinition } from "../../src/plan/schema.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import type { Tool } from "../../src/tools/types.js";

export const T0 = Date.UTC(2026, 0, 1);

/** A plan from a short literal: id, workflow and title filled in. */
export function plan(
  partial: Omit<PlanDefinitionInput, "id" | "workflow" | "title"> & Partial<PlanDefinitionInput>,
) {
  return planDefinition.parse({ id: "test.plan", workflow: "automation", title: "test", ...partial });
}

export function factory(services: Record<string, unknown> = {}): PlanFactory {
  return registerBuiltinHandlers(new PlanFactory({ services: { tools: new ToolRegistry(), ...services } }));
}

export function compile(
  partial: Parameters<typeof plan>[0],
  services: Record<string, unknown> = {},
): ExecutionGraph {
  return factory(services).compile(plan(partial));
}

/** A tool whose behaviour is a function of (input, ctx); records its calls. */
export function recordingTool(
  name: string,
  run: Tool<Record<string, unknown>, unknown>["run"],
  extra: Partial<Tool<Record<string, unknown>, unknown>> = {},
): Tool<Record<string, unknown>, unknown> & { calls: Array<{ input: unknown; idempotencyKey: string }> } {
  const calls: Array<{ input: unknown; idempotencyKey: string }> = [];
  return {
    name,
    description: `test tool ${name}`,
    input: z.record(z.string(), z.unknown()),
    ...extra,
    calls,
    run(input, ctx) {
      calls.push({ input, idempotencyKey: ctx.idempotencyKey });
      return run(input, ctx);
    },
  };
}

type Execute = Extract<Command, { type: "execute" }>;

/**
 * Drives one run in order: applies events, executes `execute` commands with executeStep and feeds the
 * results back. Timers, approvals and child runs are collected for the test to resolve.
 */
export class Harness {
  state!: RunState;
  now = T0;
  readonly commands: Command[] = [];
  readonly decisions: Decision[] = [];
  readonly queue: Execute[] = [];
  readonly timers = new Map<string, number>();

  constructor(
    readonly graph: ExecutionGraph,
    readonly runId = "run-1",
  ) {}

  start(input: unknown = {}): Decision {
    const decision = this.graph.start({
      type: "run.started",
      runId: this.runId,
      plan: { id: this.graph.plan.id, version: this.graph.plan.version, workflow: this.graph.plan.workflow },
      input,
      at: this.now,
    });
    this.take(decision);
    return decision;
  }

  apply(event: RunEvent): Decision {
    const decision = this.graph.advance(this.state, event);
    this.take(decision);
    return decision;
  }

  private take(decision: Decision): void {
    this.decisions.push(decision);
    this.state = decision.state;
    for (const command of decision.commands) {
      this.commands.push(command);
      if (command.type === "execute") this.queue.push(command);
      if (command.type === "schedule_timer") this.timers.set(command.timerId, command.at);
    }
  }

  /** Execute queued commands (and what they lead to) until none are left. */
  async drain(limit = 10_000): Promise<RunState> {
    for (let i = 0; i < limit; i++) {
      const command = this.queue.shift();
      if (!command) return this.state;
      this.apply(await this.execute(command));
    }
    throw new Error("drain did not settle");
  }

  /** Execute only inline (pure) commands, as the runner does at once; queued work stays in `queue`. */
  async drainInline(limit = 10_000): Promise<RunState> {
    for (let i = 0; i < limit; i++) {
      const index = this.queue.findIndex((c) => c.inline);
      if (index < 0) return this.state;
      const [command] = this.queue.splice(index, 1);
      this.apply(await this.execute(command!));
    }
    throw new Error("drainInline did not settle");
  }

  execute(command: Execute): Promise<RunEvent> {
    return this.graph.execute(this.state, command, { at: () => this.now });
  }

  fire(timerId: string): Decision {
    return this.apply({ type: "timer.fired", timerId, at: this.now });
  }

  ofType<T extends Command["type"]>(type: T): Array<Extract<Command, { type: T }>> {
    return this.commands.filter((c): c is Extract<Command, { type: T }> => c.type === type);
  }
}

export function statuses(state: RunState): Record<string, string> {
  return Object.fromEntries(Object.entries(state.steps).map(([key, step]) => [key, step.status]));
}
