import { context, type Span, SpanKind } from "@opentelemetry/api";
import * as z from "zod/mini";
import type { DedupeHold, DedupeService } from "../dedupe/service.js";
import { deepFreeze } from "../expr/index.js";
import type { ExecuteOptions } from "../graph/execute.js";
import type { ExecutionGraph } from "../graph/factory.js";
import { KvStepJournal } from "../graph/journal.js";
import { dedupeIdOf } from "../graph/keys.js";
import {
  type Command,
  type Decision,
  type ParentLink,
  type RunEvent,
  type RunState,
  TERMINAL_RUN_STATUSES,
  TERMINAL_STEP_STATUSES,
} from "../graph/types.js";
import type { TextDeltaSink } from "../models/text-deltas.js";
import type { PlanDefinition } from "../plan/schema.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { KeyValue, KvCompanionWrite } from "../ports/kv.js";
import type { PublishOptions, Queue, QueueMessage } from "../ports/queue.js";
import { type RunMetrics, stepOutcome } from "../telemetry/metrics.js";
import { contextFromCarrier, inSpan, recording, runParent, traceCarrier } from "../telemetry/tracing.js";
import { PlanNotFoundError, RunNotFoundError } from "./errors.js";
import { GraphCache, type PlanSource } from "./graph-cache.js";
import { type WorkMessage, workMessage } from "./messages.js";
import { newRunId, RunStore, runKeys } from "./run-store.js";

export interface RunnerOptions {
  kv: KeyValue;
  queue: Queue<WorkMessage>;
  plans: PlanSource;
  /** Compiles definitions; its registered handlers are the node behaviours. */
  compile: (definition: PlanDefinition) => ExecutionGraph;
  dedupe: DedupeService;
  clock?: Clock;
  /** Run id generator (defaults to time-ordered UUIDv7 ids, which keep new runs' keys together). */
  newRunId?: () => string;
  services?: Record<string, unknown>;
  /** How long a completed step result is remembered for duplicate deliveries (default 7 days). */
  stepResultRetentionMs?: number;
  /** Added to a step's timeout to decide when a silent holder is presumed dead (default 30 s). */
  claimGraceMs?: number;
  /**
   * Claim lease for steps without a timeout (default 30 s, plus claimGraceMs). The Worker's heartbeats
   * renew it (see `heartbeat`), so a live long step keeps its claim while a crashed holder's step is
   * taken over by the next delivery within about one lease.
   */
  defaultStepLeaseMs?: number;
  /** Called after this process appended event `seq` of a run (live event streams listen here). */
  onEvent?: (runId: string, seq: number, event: RunEvent) => void;
  /**
   * Called when a run ends (succeeded, failed or cancelled), by the process that applied the event ending
   * it, with the final state. Step events cannot tell this: several may be appended in the same pass that
   * ends the run (a chain of inline steps), and each would find the run already finished. At least once:
   * the run stays marked active until this has settled, so after a crash (or when the returned promise
   * rejects) reconciling the run calls it again. Hooks must therefore be idempotent per run.
   */
  onRunFinished?: (state: RunState) => void | Promise<void>;
  /** Live model text of the agent steps this runner executes (chat streaming); see models/text-deltas.ts. */
  onTextDelta?: TextDeltaSink;
  /** Counters and histograms (runs, step latency, dedupe hits); none are recorded without it. */
  metrics?: RunMetrics;
}

export interface StartRunRequest {
  planId: string;
  version?: number;
  input?: unknown;
  /** Give the run a known id (idempotent start: a second start with the same id returns the first run). */
  runId?: string;
  parent?: ParentLink;
  /**
   * Records stored together with the run, only when this call creates it (atomically where the KeyValue
   * supports it): e.g. the webhook route's audit entry.
   */
  records?: readonly KvCompanionWrite[];
  /**
   * The caller has checked `input` against the `inputs` schema of exactly this plan id and `version`
   * (as the API does for its 422 answer), so the runner does not check it a second time.
   */
  inputChecked?: boolean;
}

export interface StartRunResult {
  runId: string;
  created: boolean;
  state: RunState;
}

/** Outcome of handling one queue message, for logs and metrics. */
export type HandleOutcome =
  | "executed"
  | "replayed"
  | "stale"
  | "in_progress"
  | "timer"
  | "invalid"
  | "dead_lettered"
  | "retry_later";

/** Inline steps are pure and quick: nothing ever aborts them, so they share one signal. */
const INLINE_SIGNAL = new AbortController().signal;

/** The runner owns every state it loads or decides, so the decider may reuse it instead of copying. */
const OWNED = { reuseState: true } as const;

const DEFAULT_STEP_LEASE_MS = 30_000;
const DEFAULT_CLAIM_GRACE_MS = 30_000;

/** A step claim this process holds while it executes the step; heartbeats renew it. */
interface HeldClaim {
  claimKey: string;
  hold: DedupeHold;
}

/** Bound on optimistic-concurrency retries for one event; each conflict means another writer progressed. */
const MAX_APPEND_CONFLICTS = 10_000;

/**
 * The shell around the decider: loads run state, applies an event, stores it with a conditional
 * append, and carries out the commands (queue messages, inline pure steps, timers, child runs).
 * Workers call `handle` for each queue message; the API calls `start`, `approve`, `cancel`.
 */
export class Runner {
  readonly store: RunStore;
  private readonly graphs: GraphCache;
  private readonly clock: Clock;
  private readonly newRunId: () => string;
  /** The same options for every inline step: nothing per step to allocate. */
  private readonly inlineOptions: ExecuteOptions;
  /** What queued (non-inline) steps get besides: the step journal, progress reports, the text sink. */
  private readonly queuedOptions: Pick<ExecuteOptions, "journal" | "deliver" | "onTextDelta">;
  /** Step claims held by messages being executed here, for `heartbeat`. */
  private readonly held = new Map<QueueMessage<WorkMessage>, HeldClaim>();

  constructor(private readonly options: RunnerOptions) {
    this.store = new RunStore(options.kv);
    this.graphs = new GraphCache(options.plans, options.compile);
    this.clock = options.clock ?? systemClock;
    this.newRunId = options.newRunId ?? (() => newRunId(this.clock.now()));
    const clock = this.clock;
    this.inlineOptions = { signal: INLINE_SIGNAL, at: () => clock.now() };
    if (options.services) this.inlineOptions.services = options.services;
    this.queuedOptions = {
      journal: new KvStepJournal(options.kv, { ttlMs: options.stepResultRetentionMs ?? 7 * 86_400_000 }),
      deliver: (runId, event) => this.deliver(runId, event),
      ...(options.onTextDelta ? { onTextDelta: options.onTextDelta } : {}),
    };
  }

  /** Start a run. Idempotent on `runId`: starting an existing id returns that run unchanged. */
  start(request: StartRunRequest): Promise<StartRunResult> {
    // The run's root span: its context is stored in run.started, so every later step joins its trace.
    return inSpan(
      `run.start ${request.planId}`,
      {
        attributes: {
          "aat.plan.id": request.planId,
          ...(request.runId ? { "aat.run.id": request.runId } : {}),
        },
      },
      (span) => this.startInSpan(request, span),
    );
  }

  private async startInSpan(request: StartRunRequest, span: Span): Promise<StartRunResult> {
    const { graph, definition, version } = await this.graphs.resolve(request.planId, request.version);
    if (!graph) throw new PlanNotFoundError(request.planId, request.version);
    const input = request.input ?? {};
    const checked =
      request.inputChecked === true && request.input !== undefined && request.version === version;
    if (!checked) this.graphs.validateInput(definition!, version!, input);
    const runId = request.runId ?? this.newRunId();
    if (!request.runId) span.setAttribute("aat.run.id", runId);
    const trace = traceCarrier();
    const event: RunEvent = {
      type: "run.started",
      at: this.clock.now(),
      runId,
      plan: { id: definition!.id, version: version!, workflow: definition!.workflow },
      input,
      ...(request.parent ? { parent: request.parent } : {}),
      ...(trace ? { trace } : {}),
    };
    const decision = graph.start(freezeEventData(event));
    if (!(await this.store.create(decision.state, event, request.records))) {
      const existing = await this.load(runId);
      return { runId, created: false, state: existing! };
    }
    this.options.onEvent?.(runId, 1, event);
    this.options.metrics?.runStarted(event.plan);
    // The stored first event is the initial state: the snapshot waits for the first change.
    const state = await this.process(graph, decision.state, decision.commands, true);
    return { runId, created: true, state };
  }

  /** The run's current state (snapshot plus the log after it), or undefined. */
  async load(runId: string): Promise<RunState | undefined> {
    const snapshot = await this.store.readSnapshot(runId);
    if (snapshot) {
      freezeRunData(snapshot);
      const graph = await this.graphs.forRun(snapshot);
      return this.catchUp(graph, snapshot);
    }
    const events = await this.store.readLog(runId, 1);
    const first = events[0];
    if (first?.type !== "run.started") return undefined;
    const graph = await this.graphs.forPlan(first.plan.id, first.plan.version);
    let state = graph.start(freezeEventData(first)).state;
    for (const event of events.slice(1)) state = replay(graph, state, event);
    return state;
  }

  /** Carry out one queue message. Never throws for bad messages; rethrows infrastructure errors. */
  async handle(message: QueueMessage<WorkMessage>): Promise<HandleOutcome> {
    const parsed = workMessage.safeParse(message.body);
    if (!parsed.success) {
      await this.options.queue.deadLetter(message, `invalid work message: ${z.prettifyError(parsed.error)}`);
      return "invalid";
    }
    const body = parsed.data;
    // A step of a run continues the run's trace: its parent is the span that published the message.
    const parent = contextFromCarrier(message.attributes);
    const name = body.kind === "timer" ? "run.timer" : `step ${body.stepId}`;
    const attributes = {
      "aat.run.id": body.runId,
      "messaging.message.id": message.id,
      "messaging.message.delivery_count": message.deliveryCount,
      ...(body.kind === "execute" ? { "aat.step.key": body.key, "aat.step.attempt": body.attempt } : {}),
    };
    return inSpan(
      name,
      { kind: SpanKind.CONSUMER, attributes },
      async (span) => {
        const outcome = await this.handleWork(message, body);
        span.setAttribute("aat.outcome", outcome);
        return outcome;
      },
      parent,
    );
  }

  private async handleWork(message: QueueMessage<WorkMessage>, body: WorkMessage): Promise<HandleOutcome> {
    if (body.kind === "timer") {
      await this.deliver(body.runId, { type: "timer.fired", timerId: body.timerId, at: this.clock.now() });
      await this.options.queue.ack(message);
      return "timer";
    }
    return this.executeMessage(message, body);
  }

  /**
   * Called by the Worker's heartbeat while `message` is being handled: renews the step's dedupe claim
   * for another lease (defaultStepLeaseMs + claimGraceMs from now), so no second worker takes over a step
   * whose holder is alive. False when this process holds no claim for the message (not executing yet,
   * done, or the claim was lost to a takeover).
   */
  async heartbeat(message: QueueMessage<WorkMessage>): Promise<boolean> {
    const held = this.held.get(message);
    if (!held) return false;
    return this.options.dedupe.renew(held.claimKey, held.hold, { inProgressExpiryMs: this.claimLeaseMs() });
  }

  private claimLeaseMs(): number {
    return (
      (this.options.defaultStepLeaseMs ?? DEFAULT_STEP_LEASE_MS) +
      (this.options.claimGraceMs ?? DEFAULT_CLAIM_GRACE_MS)
    );
  }

  /** Grant a waiting approval. */
  async approve(runId: string, key: string, by: string, rationale?: string): Promise<Decision> {
    return this.deliver(runId, {
      type: "approval.granted",
      key,
      by,
      at: this.clock.now(),
      ...opt({ rationale }),
    });
  }

  /** Deny a waiting approval. */
  async reject(runId: string, key: string, by: string, rationale?: string): Promise<Decision> {
    return this.deliver(runId, {
      type: "approval.denied",
      key,
      by,
      at: this.clock.now(),
      ...opt({ rationale }),
    });
  }

  async cancel(runId: string, by?: string, reason?: string): Promise<Decision> {
    return this.deliver(runId, { type: "run.cancelled", at: this.clock.now(), ...opt({ by, reason }) });
  }

  /**
   * Apply an external event to a run and carry out what follows. `accepted: false` means the event
   * was stale (already applied, or the run moved on) and nothing changed.
   */
  async deliver(runId: string, event: RunEvent): Promise<Decision> {
    const state = await this.load(runId);
    if (!state) throw new RunNotFoundError(runId);
    // From outside the run's trace (an approval request, a timer with no context): continue the run's.
    if (state.trace) {
      const { parent, links } = runParent(state.trace);
      if (parent !== context.active()) {
        const options = {
          attributes: { "aat.run.id": runId, "aat.event": event.type },
          ...(links ? { links } : {}),
        };
        return inSpan(`run.${event.type}`, options, () => this.deliverTo(state, event), parent);
      }
    }
    return this.deliverTo(state, event);
  }

  private async deliverTo(state: RunState, event: RunEvent): Promise<Decision> {
    const graph = await this.graphs.forRun(state);
    const decision = await this.apply(graph, state, event);
    if (!decision.accepted) return decision;
    // A redriven step reopened a finished run: it is unfinished again (recovery and sweeps look here).
    if (event.type === "step.redriven") await this.store.markActive(decision.state.runId);
    const finalState = await this.process(graph, decision.state, decision.commands);
    return { ...decision, state: finalState };
  }

  /**
   * Re-issue whatever an interrupted process may have left undone for this run: queued steps are
   * executed (inline) or re-published (the dedupe id makes a duplicate harmless), waits re-armed,
   * a finished child re-reports to its parent. Safe to call at any time, any number of times.
   */
  async reconcile(runId: string): Promise<RunState | undefined> {
    const state = await this.load(runId);
    if (!state) return undefined;
    if (state.trace) {
      const { parent, links } = runParent(state.trace);
      if (parent !== context.active()) {
        const attributes = { "aat.run.id": runId };
        return inSpan(
          "run.reconcile",
          { attributes, ...(links ? { links } : {}) },
          () => this.reconcileLoaded(state),
          parent,
        );
      }
    }
    return this.reconcileLoaded(state);
  }

  private async reconcileLoaded(state: RunState): Promise<RunState | undefined> {
    const graph = await this.graphs.forRun(state);
    if (TERMINAL_RUN_STATUSES.includes(state.status)) {
      // Still active: what follows its end was interrupted (a crash, a failed hook), so finish it again.
      if (await this.store.isActive(state.runId)) await this.finish(state);
      return state;
    }
    return this.process(graph, state, graph.pendingCommands(state));
  }

  /** Reconcile every unfinished run (the embedded runtime does this at start-up). */
  async reconcileAll(): Promise<number> {
    let count = 0;
    for await (const runId of this.store.activeRunIds()) {
      await this.reconcile(runId);
      count++;
    }
    return count;
  }

  private async executeMessage(
    message: QueueMessage<WorkMessage>,
    body: Extract<WorkMessage, { kind: "execute" }>,
  ): Promise<HandleOutcome> {
    const { queue, dedupe } = this.options;
    let state = await this.load(body.runId);
    const step = state?.steps[body.key];
    if (
      !state ||
      TERMINAL_RUN_STATUSES.includes(state.status) ||
      !step ||
      step.attempt !== body.attempt ||
      (step.resumes ?? 0) !== (body.resume ?? 0) ||
      TERMINAL_STEP_STATUSES.includes(step.status)
    ) {
      await queue.ack(message);
      return "stale";
    }
    const graph = await this.graphs.forRun(state);
    const dedupeId = dedupeIdOf(body.runId, body.key, body.attempt, body.resume);
    const claimKey = runKeys.stepClaim(dedupeId);
    const timeoutMs = graph.stepTimeout(body.stepId);
    const claim = await dedupe.claim(claimKey, {
      expiresAfterMs: this.options.stepResultRetentionMs ?? 7 * 86_400_000,
      inProgressExpiryMs:
        timeoutMs === undefined
          ? this.claimLeaseMs()
          : timeoutMs + (this.options.claimGraceMs ?? DEFAULT_CLAIM_GRACE_MS),
    });
    if (claim.status === "in_progress") {
      await queue.nack(message, { delayMs: Math.max(1000, claim.expiresAt - this.clock.now()) });
      return "in_progress";
    }
    if (claim.status === "payload_mismatch") {
      await queue.deadLetter(message, `dedupe payload mismatch for ${dedupeId}`);
      return "dead_lettered";
    }
    if (claim.status === "duplicate") {
      this.options.metrics?.dedupeHit("step");
      // The effect already happened: report its stored result again (the decider ignores it if known).
      await this.deliver(body.runId, claim.result as RunEvent);
      await queue.ack(message);
      return "replayed";
    }
    let result: RunEvent;
    this.held.set(message, { claimKey, hold: claim });
    try {
      const started = await this.apply(graph, state, {
        type: "step.started",
        key: body.key,
        attempt: body.attempt,
        ...opt({ resume: body.resume }),
        at: this.clock.now(),
      });
      state = started.state;
      result = await this.timedStep(graph, state, body, timeoutMs);
      this.held.delete(message);
      await dedupe.complete(claimKey, result, claim);
    } catch (error) {
      this.held.delete(message);
      // Our own machinery failed (storage, network): let another delivery try, or give up for good.
      await dedupe.release(claimKey, claim).catch(() => false);
      const reason = error instanceof Error ? error.message : String(error);
      if (message.deliveryCount >= (queue.maxDeliveries ?? Number.POSITIVE_INFINITY)) {
        await queue.deadLetter(message, reason);
        await this.deliver(body.runId, {
          type: "step.dead_lettered",
          key: body.key,
          attempt: body.attempt,
          ...opt({ resume: body.resume }),
          reason,
          at: this.clock.now(),
        });
        return "dead_lettered";
      }
      await queue.nack(message, { delayMs: Math.min(30_000, 500 * 2 ** message.deliveryCount) });
      return "retry_later";
    }
    await this.deliver(body.runId, result);
    await queue.ack(message);
    return "executed";
  }

  /** runStep, timed into the step latency histogram when metrics are on. */
  private async timedStep(
    graph: ExecutionGraph,
    state: RunState,
    body: Extract<WorkMessage, { kind: "execute" }>,
    timeoutMs: number | undefined,
  ): Promise<RunEvent> {
    const metrics = this.options.metrics;
    if (!metrics) return this.runStep(graph, state, body, timeoutMs);
    const nodeType = graph.step(body.stepId).def.type;
    const began = performance.now();
    try {
      const event = await this.runStep(graph, state, body, timeoutMs);
      metrics.stepExecuted(nodeType, stepOutcome(event.type), (performance.now() - began) / 1000);
      return event;
    } catch (error) {
      metrics.stepExecuted(nodeType, "error", (performance.now() - began) / 1000);
      throw error;
    }
  }

  private async runStep(
    graph: ExecutionGraph,
    state: RunState,
    body: Extract<WorkMessage, { kind: "execute" }>,
    timeoutMs: number | undefined,
  ): Promise<RunEvent> {
    const controller = new AbortController();
    const command = executeCommand(body);
    const execution = graph.execute(state, command, {
      ...(this.options.services ? { services: this.options.services } : {}),
      signal: controller.signal,
      at: this.inlineOptions.at,
      ...this.queuedOptions,
    });
    if (timeoutMs === undefined) return execution;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<RunEvent>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error(`step timed out after ${timeoutMs} ms`));
        resolve({
          type: "step.timed_out",
          key: body.key,
          attempt: body.attempt,
          ...opt({ resume: body.resume }),
          at: this.clock.now(),
        });
      }, timeoutMs);
    });
    try {
      return await Promise.race([execution, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Apply one event with optimistic concurrency: on a lost append, catch up and decide again.
   * `state` is consumed: the decider may edit it in place (the runner owns every state it loads), so
   * after a lost append the run is reloaded from storage rather than from `state`.
   * Not an async function: this runs once per step, and the common path (decide, append once) then
   * costs one promise instead of an async frame.
   */
  private apply(graph: ExecutionGraph, state: RunState, event: RunEvent): Promise<Decision> {
    freezeEventData(event);
    const decision = graph.advance(state, event, OWNED);
    if (!decision.accepted) return Promise.resolve(decision);
    const { runId, version } = decision.state;
    return this.store.append(runId, version, event).then((stored) => {
      if (!stored) return this.applyAfterLostAppend(graph, runId, event);
      this.options.onEvent?.(runId, version, event);
      return decision;
    });
  }

  /** Another writer stored this version first: reload, decide again, append at the next version. */
  private async applyAfterLostAppend(
    graph: ExecutionGraph,
    runId: string,
    event: RunEvent,
  ): Promise<Decision> {
    for (let conflicts = 1; conflicts < MAX_APPEND_CONFLICTS; conflicts++) {
      const current = await this.load(runId);
      if (!current) throw new RunNotFoundError(runId);
      const decision = graph.advance(current, event, OWNED);
      if (!decision.accepted) return decision;
      if (await this.store.append(runId, decision.state.version, event)) {
        this.options.onEvent?.(runId, decision.state.version, event);
        return decision;
      }
    }
    throw new Error(`run ${runId}: gave up after ${MAX_APPEND_CONFLICTS} concurrent-append conflicts`);
  }

  private async catchUp(graph: ExecutionGraph, state: RunState): Promise<RunState> {
    let current = state;
    for (const event of await this.store.readLog(state.runId, state.version + 1)) {
      current = replay(graph, current, event);
    }
    return current;
  }

  /**
   * Carry out commands. Inline (pure) steps run here and now, their events applied in turn, so a chain
   * of cheap steps costs no queue round trips. Returns the state after everything was applied.
   */
  private async process(
    graph: ExecutionGraph,
    initial: RunState,
    commands: Command[],
    /** `initial` is what loading the run gives (its snapshot, or its log alone), so need not be written. */
    initialStored = false,
  ): Promise<RunState> {
    let state = initial;
    // The snapshot is rewritten only when an event was applied here (or `initial` was never stored).
    let changed = !initialStored;
    const pending = [...commands];
    // Decided once per call: inline steps get spans and timings only when someone is listening.
    const observed = this.options.metrics !== undefined || recording();
    for (let command = pending.shift(); command; command = pending.shift()) {
      switch (command.type) {
        case "execute": {
          if (command.inline && !command.delayMs) {
            // Pure steps usually answer at once; awaiting only real promises saves a microtask per step.
            let event: RunEvent;
            if (observed) event = await this.executeInlineObserved(graph, state, command);
            else {
              const outcome = graph.executeNowOrLater(state, command, this.inlineOptions);
              event = outcome instanceof Promise ? await outcome : outcome;
            }
            const decision = await this.apply(graph, state, event);
            state = decision.state;
            changed = true;
            pending.push(...decision.commands);
          } else {
            await this.publishExecute(command);
          }
          break;
        }
        case "schedule_timer":
          await this.publish(
            { kind: "timer", runId: command.runId, timerId: command.timerId },
            {
              dedupeId: `${command.runId}/${command.timerId}`,
              delayMs: Math.max(0, command.at - this.clock.now()),
            },
          );
          break;
        case "request_approval":
          // The waiting step is visible in the run state; notification channels hook in here later.
          break;
        case "start_child_run":
          await this.startChild(command);
          break;
        case "finish_run":
          break;
      }
    }
    if (changed) await this.store.writeSnapshot(state);
    if (TERMINAL_RUN_STATUSES.includes(state.status)) {
      // process() follows the accepted event that ended the run exactly once, so this counts it once.
      this.options.metrics?.runFinished(state.status, state.plan);
      await this.finish(state);
    }
    return state;
  }

  /** An inline step in its own span (when the run's span records) and timed (when metrics are on). */
  private async executeInlineObserved(
    graph: ExecutionGraph,
    state: RunState,
    command: Extract<Command, { type: "execute" }>,
  ): Promise<RunEvent> {
    const nodeType = graph.step(command.stepId).def.type;
    const began = performance.now();
    const run = async () => graph.executeNowOrLater(state, command, this.inlineOptions);
    const event = recording()
      ? await inSpan(
          `step ${command.stepId}`,
          {
            attributes: {
              "aat.run.id": command.runId,
              "aat.step.key": command.key,
              "aat.node.type": nodeType,
            },
          },
          run,
        )
      : await run();
    this.options.metrics?.stepExecuted(nodeType, stepOutcome(event.type), (performance.now() - began) / 1000);
    return event;
  }

  /** Publish work for this run, carrying the active trace context so the receiver continues the trace. */
  private async publish(body: WorkMessage, options: PublishOptions): Promise<void> {
    const attributes = traceCarrier();
    const result = await this.options.queue.publish(body, attributes ? { ...options, attributes } : options);
    if (result.duplicate) this.options.metrics?.dedupeHit("queue");
  }

  private async publishExecute(command: Extract<Command, { type: "execute" }>): Promise<void> {
    await this.publish(
      {
        kind: "execute",
        runId: command.runId,
        key: command.key,
        stepId: command.stepId,
        attempt: command.attempt,
        ...(command.resume ? { resume: command.resume } : {}),
      },
      { dedupeId: command.dedupeId, ...(command.delayMs ? { delayMs: command.delayMs } : {}) },
    );
  }

  private async startChild(command: Extract<Command, { type: "start_child_run" }>): Promise<void> {
    const childRunId = `${command.runId}~${command.key}~${command.attempt}`;
    const parent = { runId: command.runId, key: command.key, attempt: command.attempt };
    try {
      const child = await this.start({
        planId: command.planId,
        ...opt({ version: command.version }),
        input: command.input,
        runId: childRunId,
        parent,
      });
      // A child that finished inline reported to the parent already; one that existed may have, too:
      // reporting again is harmless because the decider ignores a repeated result.
      if (!child.created && TERMINAL_RUN_STATUSES.includes(child.state.status))
        await this.finish(child.state);
    } catch (error) {
      await this.deliver(command.runId, {
        type: "step.failed",
        key: command.key,
        attempt: command.attempt,
        at: this.clock.now(),
        error: {
          message: error instanceof Error ? error.message : String(error),
          code: "child_run_failed_to_start",
          retryable: false,
        },
      });
    }
  }

  /** Terminal bookkeeping; idempotent. Reports a child's outcome to its parent run. */
  /**
   * What follows a run's end: the onRunFinished hook, the parent's notice, then clearing the active
   * marker. The marker goes last so that a crash (or a failed hook) in between leaves the run active, and
   * reconciling it (start-up, the stalled-run sweep) finishes it again; both steps are idempotent.
   */
  private async finish(state: RunState): Promise<void> {
    let settled = true;
    try {
      await this.options.onRunFinished?.(state);
    } catch {
      // The hook reports its own failure; the run stays active so that it is called again.
      settled = false;
    }
    await this.notifyParent(state);
    if (settled) await this.store.clearActive(state.runId);
  }

  private async notifyParent(state: RunState): Promise<void> {
    const parent = state.parent;
    if (!parent) return;
    const event: RunEvent =
      state.status === "succeeded"
        ? {
            type: "step.succeeded",
            key: parent.key,
            attempt: parent.attempt,
            output: state.output,
            at: this.clock.now(),
          }
        : {
            type: "step.failed",
            key: parent.key,
            attempt: parent.attempt,
            at: this.clock.now(),
            error: {
              message:
                state.status === "cancelled"
                  ? `sub-plan run ${state.runId} was cancelled`
                  : `sub-plan run ${state.runId} failed: ${state.error?.message ?? "unknown error"}`,
              code: state.status === "cancelled" ? "child_cancelled" : "child_failed",
              retryable: false,
              details: { childRunId: state.runId },
            },
          };
    await this.deliver(parent.runId, event);
  }
}

function replay(graph: ExecutionGraph, state: RunState, event: RunEvent): RunState {
  const decision = graph.advance(state, freezeEventData(event), OWNED);
  if (!decision.accepted) {
    // Every logged event was accepted against exactly this state when it was appended.
    throw new Error(`run ${state.runId}: log event ${state.version + 1} (${event.type}) does not replay`);
  }
  return decision.state;
}

/**
 * Freeze the data an event brings into the run (input, output, suspension, error) so no expression
 * can change it once it is part of the state; the arrays the decider adds itself it freezes itself.
 * The event object is left as it is: expressions never see it, and freezing only the payload saves a
 * freeze per step (an output that is already frozen, such as a literal `set` value, costs nothing).
 */
function freezeEventData<E extends RunEvent>(event: E): E {
  const data: RunEvent = event;
  switch (data.type) {
    case "run.started":
      deepFreeze(data.input);
      break;
    case "step.succeeded":
      deepFreeze(data.output);
      break;
    case "step.suspended":
      deepFreeze(data.suspension);
      break;
    case "step.failed":
      deepFreeze(data.error);
      break;
  }
  return event;
}

/** Freeze the user data inside a loaded state (input, outputs, items) so expressions cannot change it. */
function freezeRunData(state: RunState): void {
  deepFreeze(state.input);
  deepFreeze(state.output);
  for (const step of Object.values(state.steps)) {
    deepFreeze(step.output);
    deepFreeze(step.fanout);
    deepFreeze(step.approval);
    deepFreeze(step.error);
    deepFreeze(step.childRun);
  }
}

function executeCommand(
  body: Extract<WorkMessage, { kind: "execute" }>,
): Extract<Command, { type: "execute" }> {
  return {
    type: "execute",
    runId: body.runId,
    key: body.key,
    stepId: body.stepId,
    attempt: body.attempt,
    inline: false,
    dedupeId: dedupeIdOf(body.runId, body.key, body.attempt, body.resume),
    ...(body.resume ? { resume: body.resume } : {}),
  };
}

/** Drop undefined values so optional properties stay absent (keeps logged events minimal). */
function opt<T extends Record<string, unknown>>(values: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
