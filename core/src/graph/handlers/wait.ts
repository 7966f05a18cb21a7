import type { StepDefinition } from "../../plan/schema.js";
import { StepFailure } from "../errors.js";
import type { NodeHandler } from "../types.js";

type WaitStep = Extract<StepDefinition, { type: "wait" }>;

/** `wait`: suspend until now + `duration`, or until the time `until` evaluates to (ISO-8601 or epoch ms). */
export const waitHandler: NodeHandler<WaitStep> = {
  pure: true,
  async execute(step, ctx) {
    if (step.duration !== undefined)
      return { kind: "suspend", suspension: { kind: "timer", until: ctx.now() + step.duration } };
    const value = await ctx.evaluate("until");
    return { kind: "suspend", suspension: { kind: "timer", until: toEpochMs(value, step.id) } };
  },
};

function toEpochMs(value: unknown, stepId: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string") {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new StepFailure(
    `wait step "${stepId}": until gave ${describe(value)}, which is not a time; return an ISO-8601 timestamp such as "2026-01-01T09:00:00Z" or epoch milliseconds`,
    { code: "validation", retryable: false },
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
