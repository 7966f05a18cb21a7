import type { z } from "zod";
import type { PlanDefinition, StepDefinition, Workflow } from "../plan/schema.js";

/**
 * Run state, events and commands of the ExecutionGraph decider.
 *
 * `advance(state, event) -> { state, commands }` is pure: time and ids arrive inside events, nothing is
 * read from the environment, and the input state is never mutated. The shell around it (the Runner)
 * persists each accepted event in the run's append-only log with a conditional write on the run
 * version, then sends the commands.
 *
 * Steps are addressed by *instance key*: a top-level step's key is its id; inside a map iteration the
 * key is prefixed by the iteration, e.g. `enrich[3]/lookup`, and nests (`outer[1]/inner[0]/x`).
 */

export type RunStatus = "running" | "waiting" | "succeeded" | "failed" | "cancelled";
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "cancelled"];

export type StepStatus =
  | "queued"
  | "running"
  | "retrying"
  | "waiting_approval"
  | "approved"
  | "rejected"
  | "succeeded"
  | "failed"
  | "skipped"
  | "dead_lettered"
  | "cancelled";
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = [
  "approved",
  "rejected",
  "succeeded",
  "failed",
  "skipped",
  "dead_lettered",
  "cancelled",
];

export interface StepError {
  message: string;
  /** Machine-readable code, e.g. `timeout`, `validation`, `tool_error`, `approval_rejected`. */
  code?: string;
  /** False when retrying cannot help (bad input, validation): the decider then skips remaining retries. */
  retryable?: boolean;
  details?: unknown;
}

export interface StepState {
  key: string;
  stepId: string;
  status: StepStatus;
  /** 1-based attempt currently (or last) dispatched. */
  attempt: number;
  output?: unknown;
  error?: StepError;
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** Times this step has been entered in this run (loops). */
  entries?: number;
  /** First attempt of the current entry: retries are counted from here, attempts never restart. */
  entryAttempt?: number;
  /** What a running step waits on after its handler suspended it; absent while it executes. */
  suspended?: Suspension["kind"];
  /** Parallel/map containers: progress of their child flows. */
  fanout?: FanoutState;
  /** Approval steps: what was asked and what was decided. */
  approval?: { request: ApprovalRequest; decision?: ApprovalDecision };
  /** Wait steps: when the timer fires. */
  waitUntil?: number;
  /** Plan steps: the child run. */
  childRunId?: string;
  /** Plan steps: what the child run was started with, so it can be started again after a crash. */
  childRun?: { planId: string; version?: number; input: unknown };
  /**
   * Times this attempt was dispatched again after an approval decided a call it proposed (agent steps
   * asking to run a dangerous tool). Each resumption is its own execution: `${dedupeId}/resume/${n}`.
   */
  resumes?: number;
  /** What a long-running step (an agent) reported so far in this entry: `step.progress` events, summed. */
  progress?: StepProgressSummary;
}

/** Tokens a model used; `estimated` when the offline model counted characters instead. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  estimated?: boolean;
}

/**
 * One progress record of a running step, stored in the run's event log (`step.progress`). Agent steps
 * write their transcript this way: `agent.start`, `agent.model` (one per round, with usage),
 * `agent.tool` (one per tool call, with its outcome) and `agent.repair`.
 */
export interface StepProgress {
  kind: string;
  usage?: TokenUsage;
  cost?: number;
  [field: string]: unknown;
}

/** The sum of a step entry's progress records, kept on the step state (GET /v1/runs/:id shows it). */
export interface StepProgressSummary {
  /** Sequence number of the last record applied; a record is applied once, in order. */
  seq: number;
  /** Model rounds (`agent.model` records). */
  rounds: number;
  /** Tool calls answered (`agent.tool` records). */
  toolCalls: number;
  usage?: TokenUsage;
  cost?: number;
}

export interface FanoutState {
  total: number;
  /** Map: items evaluated when the step started; parallel: undefined. */
  items?: unknown[];
  /** Next map index to start (map only). */
  nextIndex: number;
  running: number;
  done: number;
  /** Output of each child flow by index (the output of its last step). */
  results: unknown[];
}

export interface ApprovalRequest {
  message?: string;
  approvers: string[];
  /** Agent steps asking to call a dangerous tool put the proposed call here. */
  proposal?: unknown;
}

export interface ApprovalDecision {
  approved: boolean;
  by: string;
  rationale?: string;
  at: number;
}

export interface RunState {
  runId: string;
  plan: { id: string; version: number; workflow: Workflow };
  status: RunStatus;
  /** Number of events applied; the next event is stored at version + 1. */
  version: number;
  input: unknown;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  steps: Record<string, StepState>;
  output?: unknown;
  error?: StepError;
  /** Set when this run was started by a `plan` step of another run. */
  parent?: ParentLink;
  /**
   * The run's trace context (W3C `traceparent` and `tracestate` when tracing is on), from its
   * `run.started` event: every later step, timer and approval of the run continues this trace.
   */
  trace?: Record<string, string>;
  /**
   * Non-terminal steps that are doing work (queued, running, retrying, awaiting a child run) and
   * that wait on an approval or a timer. Kept by the decider so the run status costs O(1).
   */
  activity?: { busy: number; waiting: number };
}

export interface ParentLink {
  runId: string;
  key: string;
  attempt: number;
}

/** What a node handler reports when it does not finish at once. */
export type Suspension =
  | { kind: "timer"; until: number }
  | { kind: "approval"; request: ApprovalRequest }
  | { kind: "fanout"; items?: unknown[]; count?: number }
  | { kind: "child_run"; planId: string; version?: number; input: unknown };

interface EventBase {
  /** Epoch milliseconds, stamped by the shell from its Clock. */
  at: number;
}
interface StepEventBase extends EventBase {
  key: string;
  attempt: number;
  /** Which execution of the attempt reported it (see StepState.resumes); absent for the first. */
  resume?: number;
}

export type RunEvent =
  | (EventBase & {
      type: "run.started";
      runId: string;
      plan: { id: string; version: number; workflow: Workflow };
      input: unknown;
      parent?: ParentLink;
      /** Trace context of the span that started the run (absent while tracing is off). */
      trace?: Record<string, string>;
    })
  | (StepEventBase & { type: "step.started" })
  | (StepEventBase & { type: "step.succeeded"; output: unknown; next?: string })
  /** A running step recorded progress (an agent round, a tool call): `seq` counts from 1 per step entry. */
  | (StepEventBase & { type: "step.progress"; seq: number; progress: StepProgress })
  /** The step's `if` was false. */
  | (StepEventBase & { type: "step.skipped" })
  | (StepEventBase & { type: "step.suspended"; suspension: Suspension })
  | (StepEventBase & { type: "step.failed"; error: StepError })
  | (StepEventBase & { type: "step.timed_out" })
  /** The queue gave up on the step's message (max deliveries). */
  | (StepEventBase & { type: "step.dead_lettered"; reason: string })
  /**
   * An operator redrove the dead letter of a step the runner had dead-lettered: the run that failed
   * because of it reopens and the step gets a fresh attempt (see docs/engine.md, "Dead letters").
   */
  | (StepEventBase & { type: "step.redriven"; by?: string })
  | (EventBase & { type: "approval.granted"; key: string; by: string; rationale?: string })
  | (EventBase & { type: "approval.denied"; key: string; by: string; rationale?: string })
  | (EventBase & { type: "timer.fired"; timerId: string })
  | (EventBase & { type: "run.cancelled"; by?: string; reason?: string });

export type RunEventType = RunEvent["type"];

export type Command =
  | {
      type: "execute";
      runId: string;
      key: string;
      stepId: string;
      attempt: number;
      /** Pure steps (set, branch, …): the runner may execute them in-process at once. */
      inline: boolean;
      /** Retry backoff: deliver no sooner than this. */
      delayMs?: number;
      /** `${runId}/${key}/${attempt}`: the queue dedupe id and the step's dedupe claim key. */
      dedupeId: string;
      /** Set when the attempt resumes after an approval (StepState.resumes); the dedupe id says so too. */
      resume?: number;
    }
  | {
      type: "schedule_timer";
      runId: string;
      /** Unique per run: `wait:${key}:${attempt}` or `timeout:${key}:${attempt}`. */
      timerId: string;
      at: number;
    }
  | { type: "request_approval"; runId: string; key: string; request: ApprovalRequest }
  | {
      type: "start_child_run";
      runId: string;
      key: string;
      attempt: number;
      /** `${runId}~${key}~${attempt}`: deterministic, so starting it twice is idempotent. */
      childRunId: string;
      planId: string;
      version?: number;
      input: unknown;
    }
  | {
      type: "finish_run";
      runId: string;
      status: "succeeded" | "failed" | "cancelled";
      output?: unknown;
      error?: StepError;
      parent?: ParentLink;
    };

export interface Decision {
  state: RunState;
  commands: Command[];
  /** False when the event was stale or a duplicate: the state is unchanged and nothing must be stored. */
  accepted: boolean;
}

/** The data expressions see while a step runs. */
export interface ExpressionScope {
  input: unknown;
  /** Outputs by step id, resolved for the current map iteration. */
  steps: Record<string, { output?: unknown; status: StepStatus; error?: StepError }>;
  run: { id: string; planId: string; planVersion: number; workflow: Workflow };
  /** Inside a map iteration. */
  item?: unknown;
  index?: number;
}

/** Everything a node handler may use while executing one attempt of one step. */
export interface StepContext {
  runId: string;
  key: string;
  attempt: number;
  /** `${runId}/${key}/${attempt}`: pass it to external systems so a repeated call has one effect. */
  idempotencyKey: string;
  scope: ExpressionScope;
  /** Evaluate one of the step's compiled templates (by field path) against the scope. */
  evaluate(field: string): Promise<unknown>;
  /**
   * The same value at once when the field's expressions need no asynchronous evaluation (paths,
   * literals, arithmetic, comparisons: see expr/simple.ts); undefined when only `evaluate` can tell.
   */
  evaluateNow(field: string): { value: unknown } | undefined;
  signal: AbortSignal;
  /** Services registered with the factory (tool registry, model provider, …). */
  services: Readonly<Record<string, unknown>>;
  /** The executor's clock (epoch ms); handlers never read Date themselves. */
  now(): number;
  /** The plan the step belongs to (named schemas, capabilities). */
  plan: PlanDefinition;
  /** Where the flow goes when the step does not choose: its `next` or the following step, if any. */
  successor?: string;
  /** The step's state as dispatched (entry attempt, approval decision, progress so far). */
  step?: Readonly<StepState>;
  /** Durable records of this step (the runner's KeyValue store); absent outside a runner. */
  journal?: StepJournal;
  /**
   * Append a `step.progress` record to the run's event log and resolve once it is stored. Records are
   * applied once and in order by `seq` (1, 2, …, per step entry): reporting one again is harmless.
   * A no-op outside a runner.
   */
  report(seq: number, progress: StepProgress): Promise<void>;
  /** Live text of a streaming model (chat), when someone listens; not durable. See models/text-deltas.ts. */
  readonly onTextDelta?: (delta: string) => void;
}

/**
 * Durable, append-only records per scope (an agent step entry): `write` stores record `seq` unless one
 * is there already and returns the stored one, so the first writer wins and a resumed execution reads
 * back exactly what an earlier one did.
 */
export interface StepJournal {
  /** Records 1, 2, … of `scope`, up to the first missing one. */
  read(scope: string): Promise<unknown[]>;
  write(scope: string, seq: number, record: unknown): Promise<unknown>;
}

export type NodeResult =
  | { kind: "done"; output: unknown; next?: string }
  | { kind: "suspend"; suspension: Suspension };

/**
 * Behaviour of one node type. `registerHandler(type, handler)` on the PlanFactory is the only way
 * behaviour is attached to a node type. The fields a handler may `evaluate` are the step's expression
 * fields (plan/fields.ts), compiled once by the factory.
 */
export interface NodeHandler<S extends StepDefinition = StepDefinition> {
  /** Pure handlers have no side effects and may run inline in the runner, without a queue round trip. */
  readonly pure: boolean;
  /** Extra load-time validation (for example: is the tool registered?). Return problems with paths. */
  validate?(step: S, plan: PlanDefinition, services: Readonly<Record<string, unknown>>): HandlerProblem[];
  /** May return the result itself: a pure step that answers at once spares the runner a chain of promises. */
  execute(step: S, ctx: StepContext): Promise<NodeResult> | NodeResult;
}

export interface HandlerProblem {
  /** Path relative to the step, e.g. ["tool"]. */
  path: Array<string | number>;
  message: string;
}

export type AnyZod = z.ZodType;
