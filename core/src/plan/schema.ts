import { z } from "zod";

/**
 * The PlanDefinition schema: the YAML a user writes. Every field is documented in docs/plan-format.md.
 * Durations are strings like "500ms", "30s", "5m", "2h", "1d" (or a number of milliseconds) and are
 * normalised to milliseconds here. Expressions are JSONata; see core/src/expr.
 */

export const WORKFLOWS = ["alerts", "analytics", "automation", "coding", "chat"] as const;
export type Workflow = (typeof WORKFLOWS)[number];

export const NODE_TYPES = [
  "tool",
  "agent",
  "branch",
  "parallel",
  "map",
  "approval",
  "wait",
  "set",
  "plan",
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `invalid duration ${JSON.stringify(value)}: use a number of milliseconds or a string like "500ms", "30s", "5m", "2h", "1d"`,
    });
    return z.NEVER;
  }
  return ms;
});

export const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must start with a letter or _ and contain only letters, digits and _");

export const planId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    "must be lower case letters, digits, '.', '_' or '-', starting with a letter or digit",
  );

/** A JSONata expression: either bare (`steps.a.output.x > 1`) or wrapped (`{% steps.a.output.x > 1 %}`). */
export const expression = z.string().min(1, "expression is empty");

export const retryPolicy = z.strictObject({
  /** Retries after the first attempt (so `max: 3` means up to 4 attempts). */
  max: z.number().int().min(0).max(100).default(3),
  backoff: z.enum(["fixed", "exponential"]).default("exponential"),
  initial: duration.default(1000),
  maxDelay: duration.default(300_000),
  /** true = full jitter; a number in [0,1] = that fraction of the delay is randomised. */
  jitter: z.union([z.boolean(), z.number().min(0).max(1)]).default(true),
});
export type RetryPolicy = z.output<typeof retryPolicy>;

const baseStep = {
  id: identifier,
  title: z.string().optional(),
  description: z.string().optional(),
  /** Run the step only when this expression is truthy; otherwise it is skipped and the flow moves on. */
  if: expression.optional(),
  /** The step that follows. Defaults to the next step in the same list; the last step ends its flow. */
  next: identifier.optional(),
  /** End the flow after this step even if more steps follow in the list. */
  end: z.boolean().optional(),
  /** Where to go when the step fails for good (after retries). Without it the failure fails the flow. */
  onError: identifier.optional(),
  retry: retryPolicy.optional(),
  timeout: duration.optional(),
  /** Declares that this step may be re-entered by a back edge (a loop), at most `max` times per run. */
  loop: z.strictObject({ max: z.number().int().min(1).max(10_000) }).optional(),
};

/** A JSON value in which strings may hold `{% expr %}` templates. */
export const template: z.ZodType<unknown> = z.unknown();

export const toolStep = z.strictObject({
  ...baseStep,
  type: z.literal("tool"),
  tool: z.string().min(1),
  with: z.record(z.string(), template).optional(),
  /**
   * For a dangerous tool: the id of an approval step of this plan whose grant covers this call. When
   * that approval was granted in the run, the tool runs; otherwise (and without `approvedBy`) the step
   * itself waits for a person's approval of the call.
   */
  approvedBy: identifier.optional(),
});

export const agentStep = z.strictObject({
  ...baseStep,
  type: z.literal("agent"),
  /** Model alias from configuration (`fast`, `smart`); the configured default when omitted. */
  model: z.string().optional(),
  system: z.string().optional(),
  prompt: z.string().min(1),
  /** Tool names or globs (`threatintel.*`) the agent may call. */
  tools: z.array(z.string().min(1)).default([]),
  /** Model rounds in which the model may call tools; the round after them must answer (docs/plan-format.md). */
  maxRounds: z.number().int().min(1).max(50).default(8),
  /** Name of a schema in the plan's `schemas`, or an inline JSON Schema for the structured output. */
  output: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  /** Who may approve this agent's calls to dangerous tools: `role:responder`, `user:alice`. Empty: any responder. */
  approvers: z.array(z.string().regex(/^(role|user):.+$/, "must be role:<name> or user:<name>")).default([]),
});

export const branchStep = z.strictObject({
  ...baseStep,
  type: z.literal("branch"),
  cases: z.array(z.strictObject({ when: expression, next: identifier })).min(1),
  /** Where to go when no case matches; without it the flow carries on with `next` or the following step. */
  default: identifier.optional(),
});

export const approvalStep = z.strictObject({
  ...baseStep,
  type: z.literal("approval"),
  /** Who may decide: `role:responder`, `user:alice`. Empty means any signed-in user with a deciding role. */
  approvers: z.array(z.string().regex(/^(role|user):.+$/, "must be role:<name> or user:<name>")).default([]),
  /** What the approver sees; may contain `{% %}` templates. */
  message: z.string().optional(),
  /** Where to go when rejected; without it a rejection fails the run. */
  onReject: identifier.optional(),
});

export const waitStep = z
  .strictObject({
    ...baseStep,
    type: z.literal("wait"),
    duration: duration.optional(),
    /** An expression giving an ISO-8601 timestamp or epoch milliseconds. */
    until: expression.optional(),
  })
  .refine((s) => (s.duration === undefined) !== (s.until === undefined), {
    message: "a wait step needs exactly one of `duration` or `until`",
  });

export const setStep = z.strictObject({
  ...baseStep,
  type: z.literal("set"),
  /** The step's output: an object whose string leaves may be `{% %}` templates. */
  values: z.record(z.string(), template),
});

export const planStep = z.strictObject({
  ...baseStep,
  type: z.literal("plan"),
  plan: planId,
  /** Pin a version of the sub-plan; the current version when omitted. */
  version: z.number().int().min(1).optional(),
  input: z.record(z.string(), template).optional(),
});

export interface ParallelStepDef extends z.output<typeof parallelStepShape> {
  branches: Array<{ name?: string; steps: StepDefinition[] }>;
}
export interface MapStepDef extends z.output<typeof mapStepShape> {
  steps: StepDefinition[];
}

const parallelStepShape = z.strictObject({
  ...baseStep,
  type: z.literal("parallel"),
});
const mapStepShape = z.strictObject({
  ...baseStep,
  type: z.literal("map"),
  /** Expression that yields the array to iterate; each iteration sees `item` and `index`. */
  items: expression,
  /** Iterations running at once (default 10). */
  concurrency: z.number().int().min(1).max(1000).default(10),
});

export type StepDefinition =
  | z.output<typeof toolStep>
  | z.output<typeof agentStep>
  | z.output<typeof branchStep>
  | z.output<typeof approvalStep>
  | z.output<typeof waitStep>
  | z.output<typeof setStep>
  | z.output<typeof planStep>
  | ParallelStepDef
  | MapStepDef;

export const stepSchema: z.ZodType<StepDefinition> = z.lazy(() =>
  z.discriminatedUnion("type", [
    toolStep,
    agentStep,
    branchStep,
    approvalStep,
    waitStep,
    setStep,
    planStep,
    parallelStepShape.extend({
      branches: z
        .array(z.strictObject({ name: identifier.optional(), steps: z.array(stepSchema).min(1) }))
        .min(1),
    }),
    mapStepShape.extend({ steps: z.array(stepSchema).min(1) }),
  ]),
) as z.ZodType<StepDefinition>;

export const trigger = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("manual") }),
  z.strictObject({
    type: z.literal("webhook"),
    /** Id used in POST /v1/hooks/:id; defaults to the plan id. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional(),
    /** Name of the secret holding the HMAC key. */
    secret: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal("schedule"),
    cron: z.string().min(1),
    timezone: z.string().default("UTC"),
    input: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    type: z.literal("event"),
    event: z.string().min(1),
    when: expression.optional(),
  }),
]);
export type Trigger = z.output<typeof trigger>;

export const matchRule = z.strictObject({
  /** Event type this plan handles, e.g. `alert.received`. */
  event: z.string().min(1).optional(),
  /** JSONata over `{ event, input }` (and the input's fields at the top level) that must be truthy. */
  when: expression.optional(),
  /** Higher wins when several plans match; ties are broken by plan id. */
  priority: z.number().int().default(0),
});
export type MatchRule = z.output<typeof matchRule>;

export const planDefinition = z.strictObject({
  id: planId,
  version: z.number().int().min(1).default(1),
  workflow: z.enum(WORKFLOWS),
  title: z.string().min(1),
  description: z.string().optional(),
  /** JSON Schema (draft 2020-12 subset) for the run input. */
  inputs: z.record(z.string(), z.unknown()).optional(),
  /** Named JSON Schemas that agent steps can refer to by name. */
  schemas: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  triggers: z.array(trigger).default([{ type: "manual" }]),
  match: z.array(matchRule).default([]),
  capabilities: z.array(z.string().regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$/)).default([]),
  steps: z.array(stepSchema).min(1),
  /** The run's output: an object or a single `{% %}` template. Defaults to the last step's output. */
  outputs: template.optional(),
});
export type PlanDefinition = z.output<typeof planDefinition>;
export type PlanDefinitionInput = z.input<typeof planDefinition>;
