import * as z from "zod/mini";
import { installZodDefaults } from "../zod-defaults.js";

installZodDefaults();

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

export const duration = z.pipe(
  z.union([z.string(), z.number()]),
  z.transform((value: string | number, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.issues.push({
        code: "custom",
        message: `invalid duration ${JSON.stringify(value)}: use a number of milliseconds or a string like "500ms", "30s", "5m", "2h", "1d"`,
        input: value,
      });
      return z.NEVER;
    }
    return ms;
  }),
);

export const identifier = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      "must start with a letter or _ and contain only letters, digits and _",
    ),
  );

/** What a plan id may look like; the HTTP API's own (classic zod) plan id schema uses the same. */
export const PLAN_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
export const PLAN_ID_MESSAGE =
  "must be lower case letters, digits, '.', '_' or '-', starting with a letter or digit";

export const planId = z.string().check(z.regex(PLAN_ID_PATTERN, PLAN_ID_MESSAGE));

/** A JSONata expression: either bare (`steps.a.output.x > 1`) or wrapped (`{% steps.a.output.x > 1 %}`). */
export const expression = z.string().check(z.minLength(1, "expression is empty"));

export const retryPolicy = z.strictObject({
  /** Retries after the first attempt (so `max: 3` means up to 4 attempts). */
  max: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(100)), 3),
  backoff: z._default(z.enum(["fixed", "exponential"]), "exponential"),
  initial: z._default(duration, 1000),
  maxDelay: z._default(duration, 300_000),
  /** true = full jitter; a number in [0,1] = that fraction of the delay is randomised. */
  jitter: z._default(z.union([z.boolean(), z.number().check(z.minimum(0), z.maximum(1))]), true),
});
export type RetryPolicy = z.output<typeof retryPolicy>;

const baseStep = {
  id: identifier,
  title: z.optional(z.string()),
  description: z.optional(z.string()),
  /** Run the step only when this expression is truthy; otherwise it is skipped and the flow moves on. */
  if: z.optional(expression),
  /** The step that follows. Defaults to the next step in the same list; the last step ends its flow. */
  next: z.optional(identifier),
  /** End the flow after this step even if more steps follow in the list. */
  end: z.optional(z.boolean()),
  /** Where to go when the step fails for good (after retries). Without it the failure fails the flow. */
  onError: z.optional(identifier),
  retry: z.optional(retryPolicy),
  timeout: z.optional(duration),
  /** Declares that this step may be re-entered by a back edge (a loop), at most `max` times per run. */
  loop: z.optional(z.strictObject({ max: z.number().check(z.int(), z.minimum(1), z.maximum(10_000)) })),
};

/** A JSON value in which strings may hold `{% expr %}` templates. */
export const template: z.ZodMiniType<unknown> = z.unknown();

export const toolStep = z.strictObject({
  ...baseStep,
  type: z.literal("tool"),
  tool: z.string().check(z.minLength(1)),
  with: z.optional(z.record(z.string(), template)),
  /**
   * For a dangerous tool: the id of an approval step of this plan whose grant covers this call. When
   * that approval was granted in the run, the tool runs; otherwise (and without `approvedBy`) the step
   * itself waits for a person's approval of the call.
   */
  approvedBy: z.optional(identifier),
});

export const agentStep = z.strictObject({
  ...baseStep,
  type: z.literal("agent"),
  /** Model alias from configuration (`fast`, `smart`); the configured default when omitted. */
  model: z.optional(z.string()),
  system: z.optional(z.string()),
  prompt: z.string().check(z.minLength(1)),
  /** Tool names or globs (`threatintel.*`) the agent may call. */
  tools: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** Model rounds in which the model may call tools; the round after them must answer (docs/plan-format.md). */
  maxRounds: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(50)), 8),
  /** Name of a schema in the plan's `schemas`, or an inline JSON Schema for the structured output. */
  output: z.optional(z.union([z.string(), z.record(z.string(), z.unknown())])),
  /** Who may approve this agent's calls to dangerous tools: `role:responder`, `user:alice`. Empty: any responder. */
  approvers: z._default(
    z.array(z.string().check(z.regex(/^(role|user):.+$/, "must be role:<name> or user:<name>"))),
    [],
  ),
});

export const branchStep = z.strictObject({
  ...baseStep,
  type: z.literal("branch"),
  cases: z.array(z.strictObject({ when: expression, next: identifier })).check(z.minLength(1)),
  /** Where to go when no case matches; without it the flow carries on with `next` or the following step. */
  default: z.optional(identifier),
});

export const approvalStep = z.strictObject({
  ...baseStep,
  type: z.literal("approval"),
  /** Who may decide: `role:responder`, `user:alice`. Empty means any signed-in user with a deciding role. */
  approvers: z._default(
    z.array(z.string().check(z.regex(/^(role|user):.+$/, "must be role:<name> or user:<name>"))),
    [],
  ),
  /** What the approver sees; may contain `{% %}` templates. */
  message: z.optional(z.string()),
  /** Where to go when rejected; without it a rejection fails the run. */
  onReject: z.optional(identifier),
});

export const waitStep = z
  .strictObject({
    ...baseStep,
    type: z.literal("wait"),
    duration: z.optional(duration),
    /** An expression giving an ISO-8601 timestamp or epoch milliseconds. */
    until: z.optional(expression),
  })
  .check(
    z.refine((s) => (s.duration === undefined) !== (s.until === undefined), {
      message: "a wait step needs exactly one of `duration` or `until`",
    }),
  );

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
  version: z.optional(z.number().check(z.int(), z.minimum(1))),
  input: z.optional(z.record(z.string(), template)),
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
  concurrency: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(1000)), 10),
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

export const stepSchema: z.ZodMiniType<StepDefinition> = z.lazy(() =>
  z.discriminatedUnion("type", [
    toolStep,
    agentStep,
    branchStep,
    approvalStep,
    waitStep,
    setStep,
    planStep,
    z.extend(parallelStepShape, {
      branches: z
        .array(
          z.strictObject({ name: z.optional(identifier), steps: z.array(stepSchema).check(z.minLength(1)) }),
        )
        .check(z.minLength(1)),
    }),
    z.extend(mapStepShape, { steps: z.array(stepSchema).check(z.minLength(1)) }),
  ]),
) as z.ZodMiniType<StepDefinition>;

export const trigger = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("manual") }),
  z.strictObject({
    type: z.literal("webhook"),
    /** Id used in POST /v1/hooks/:id; defaults to the plan id. */
    id: z.optional(z.string().check(z.regex(/^[A-Za-z0-9._-]+$/))),
    /** Name of the secret holding the HMAC key. */
    secret: z.optional(z.string()),
  }),
  z.strictObject({
    type: z.literal("schedule"),
    cron: z.string().check(z.minLength(1)),
    timezone: z._default(z.string(), "UTC"),
    input: z.optional(z.record(z.string(), z.unknown())),
  }),
  z.strictObject({
    type: z.literal("event"),
    event: z.string().check(z.minLength(1)),
    when: z.optional(expression),
  }),
]);
export type Trigger = z.output<typeof trigger>;

export const matchRule = z.strictObject({
  /** Event type this plan handles, e.g. `alert.received`. */
  event: z.optional(z.string().check(z.minLength(1))),
  /** JSONata over `{ event, input }` (and the input's fields at the top level) that must be truthy. */
  when: z.optional(expression),
  /** Higher wins when several plans match; ties are broken by plan id. */
  priority: z._default(z.number().check(z.int()), 0),
});
export type MatchRule = z.output<typeof matchRule>;

export const planDefinition = z.strictObject({
  id: planId,
  version: z._default(z.number().check(z.int(), z.minimum(1)), 1),
  workflow: z.enum(WORKFLOWS),
  title: z.string().check(z.minLength(1)),
  description: z.optional(z.string()),
  /** JSON Schema (draft 2020-12 subset) for the run input. */
  inputs: z.optional(z.record(z.string(), z.unknown())),
  /** Named JSON Schemas that agent steps can refer to by name. */
  schemas: z.optional(z.record(z.string(), z.record(z.string(), z.unknown()))),
  triggers: z._default(z.array(trigger), [{ type: "manual" }]),
  match: z._default(z.array(matchRule), []),
  capabilities: z._default(z.array(z.string().check(z.regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$/))), []),
  steps: z.array(stepSchema).check(z.minLength(1)),
  /** The run's output: an object or a single `{% %}` template. Defaults to the last step's output. */
  outputs: z.optional(template),
});
export type PlanDefinition = z.output<typeof planDefinition>;
export type PlanDefinitionInput = z.input<typeof planDefinition>;
