import { InfrastructureError, StepFailure } from "../graph/errors.js";
import { MemoryStepJournal } from "../graph/journal.js";
import type { NodeResult, StepContext, StepJournal } from "../graph/types.js";
import type { AgentModel, AgentToolSpec, AgentTurn, AgentTurnRequest } from "../models/agent-model.js";
import type { Tool } from "../tools/types.js";
import { checkOutput, describeIssues } from "./output.js";
import {
  type AgentModelRecord,
  type AgentRecord,
  type AgentStartRecord,
  asRecords,
  transcriptOf,
} from "./records.js";
import { answerToolCall } from "./tool-call.js";

/** What one agent step asks for, with its templates already evaluated. */
export interface AgentLoopSpec {
  stepId: string;
  model?: string;
  system?: string;
  prompt: string;
  tools: readonly Tool[];
  toolSpecs: readonly AgentToolSpec[];
  /** Model rounds in which the model may call tools; the round after them must answer. */
  maxRounds: number;
  outputSchema?: Record<string, unknown>;
  /** Who may decide on dangerous tool calls (empty: anyone with a deciding role). */
  approvers: readonly string[];
}

/**
 * The agent step's loop. Each move appends one record (model reply, tool outcome, repair request) to
 * the step's journal BEFORE it is acted on and reports it to the run's event log; the next move is
 * decided by the last record alone. So an execution that starts over (worker crash, retry after a
 * provider error, resumption after an approval) reads the journal back and carries on: a tool call
 * whose outcome is recorded is never run again, and a recorded model reply is never asked for again.
 */
export async function runAgentLoop(
  spec: AgentLoopSpec,
  ctx: StepContext,
  model: AgentModel,
): Promise<NodeResult> {
  const entry = ctx.step?.entryAttempt ?? ctx.attempt;
  const scope = `${ctx.runId}/${ctx.key}/${entry}`;
  const journal = ctx.journal ?? new MemoryStepJournal();
  const log = new LoopLog(journal, scope, ctx);
  await log.open();
  if (log.records.length === 0) {
    const start: AgentStartRecord = {
      kind: "agent.start",
      ...(spec.system !== undefined ? { system: spec.system } : {}),
      prompt: spec.prompt,
      tools: spec.tools.map((t) => t.name),
      maxRounds: spec.maxRounds,
      ...(spec.outputSchema !== undefined ? { outputSchema: spec.outputSchema } : {}),
    };
    await log.append(start);
  }
  const tools = new Map(spec.tools.map((tool) => [tool.name, tool]));
  for (;;) {
    const last = log.records.at(-1)!;
    switch (last.kind) {
      case "agent.start":
      case "agent.repair":
        await log.append(await modelRound(spec, ctx, model, log.records));
        break;
      case "agent.model": {
        if (last.toolCalls.length > 0) {
          const answer = await answerToolCall(
            last.toolCalls[0]!,
            { round: last.round, index: 0, idempotencyKey: `${scope}/call/${last.round}/0` },
            tools,
            ctx,
            spec.approvers,
          );
          if ("suspend" in answer) return { kind: "suspend", suspension: answer.suspend };
          await log.append(answer.record);
          break;
        }
        const finished = await finish(spec, last, log.records);
        if (finished.kind === "done") return finished;
        await log.append(finished.record);
        break;
      }
      case "agent.tool": {
        const reply = modelRecordOf(log.records, last.round);
        const index = last.index + 1;
        if (index < reply.toolCalls.length) {
          const answer = await answerToolCall(
            reply.toolCalls[index]!,
            { round: last.round, index, idempotencyKey: `${scope}/call/${last.round}/${index}` },
            tools,
            ctx,
            spec.approvers,
          );
          if ("suspend" in answer) return { kind: "suspend", suspension: answer.suspend };
          await log.append(answer.record);
        } else {
          await log.append(await modelRound(spec, ctx, model, log.records));
        }
        break;
      }
    }
  }
}

/** One model call over the transcript so far, as its record. */
async function modelRound(
  spec: AgentLoopSpec,
  ctx: StepContext,
  model: AgentModel,
  records: readonly AgentRecord[],
): Promise<AgentModelRecord> {
  const replies = records.filter((r): r is AgentModelRecord => r.kind === "agent.model");
  const toolRounds = replies.filter((r) => r.toolCalls.length > 0).length;
  const round = replies.length;
  // maxRounds tool rounds, one answer, one repair: past that the model is not converging.
  if (round > spec.maxRounds + 1 + (records.some((r) => r.kind === "agent.repair") ? 1 : 0)) {
    throw new StepFailure(
      `agent step "${spec.stepId}" made ${round} model rounds without a final answer (maxRounds is ${spec.maxRounds})`,
      { code: "agent_max_rounds", retryable: false, details: { rounds: round, maxRounds: spec.maxRounds } },
    );
  }
  const mustAnswer = toolRounds >= spec.maxRounds || records.at(-1)?.kind === "agent.repair";
  const request: AgentTurnRequest = {
    ...(spec.model !== undefined ? { model: spec.model } : {}),
    ...(spec.system !== undefined ? { system: spec.system } : {}),
    messages: transcriptOf(records),
    tools: mustAnswer ? [] : spec.toolSpecs,
    ...(spec.outputSchema !== undefined ? { outputSchema: spec.outputSchema } : {}),
    signal: ctx.signal,
  };
  const sink = ctx.onTextDelta;
  const turn: AgentTurn =
    sink && model.stream ? await model.stream(request, sink) : await model.turn(request);
  return {
    kind: "agent.model",
    round,
    text: turn.text,
    // With no tools offered there is nothing to call: a provider that calls anyway is ignored.
    toolCalls: mustAnswer ? [] : turn.toolCalls,
    finishReason: turn.finishReason,
    ...(turn.usage !== undefined ? { usage: turn.usage } : {}),
    ...(turn.cost !== undefined ? { cost: turn.cost } : {}),
    ...(turn.model !== undefined ? { model: turn.model } : {}),
  };
}

/** The final answer: the step's output, one repair request, or the step's failure after the repair. */
async function finish(
  spec: AgentLoopSpec,
  reply: AgentModelRecord,
  records: readonly AgentRecord[],
): Promise<{ kind: "done"; output: unknown } | { kind: "repair"; record: AgentRecord }> {
  if (spec.outputSchema === undefined) return { kind: "done", output: reply.text };
  const check = await checkOutput(reply.text, spec.outputSchema);
  if (check.ok) return { kind: "done", output: check.value };
  if (records.some((r) => r.kind === "agent.repair")) {
    throw new StepFailure(
      `agent step "${spec.stepId}": the model's answer does not match the output schema, also after one repair: ${describeIssues(check.issues)}`,
      { code: "agent_output_invalid", retryable: false, details: { issues: check.issues, text: reply.text } },
    );
  }
  return {
    kind: "repair",
    record: {
      kind: "agent.repair",
      round: reply.round,
      issues: check.issues,
      message: `Your answer does not match the required JSON Schema. Problems: ${describeIssues(check.issues)}. Reply with only the corrected JSON value, nothing else.`,
    },
  };
}

function modelRecordOf(records: readonly AgentRecord[], round: number): AgentModelRecord {
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i]!;
    if (record.kind === "agent.model" && record.round === round) return record;
  }
  throw new Error(`agent journal: no model reply for round ${round}`);
}

/** The journal and the run's event log together: a record is stored durably, then reported once. */
class LoopLog {
  records: AgentRecord[] = [];

  constructor(
    private readonly journal: StepJournal,
    private readonly scope: string,
    private readonly ctx: StepContext,
  ) {}

  async open(): Promise<void> {
    const stored = await infrastructure("read the agent journal", () => this.journal.read(this.scope));
    this.records = asRecords(stored, this.scope);
    // Records stored by an execution that stopped before reporting them: the event log catches up.
    const reported = this.ctx.step?.progress?.seq ?? 0;
    for (let seq = reported + 1; seq <= this.records.length; seq++)
      await this.report(seq, this.records[seq - 1]!);
  }

  async append(record: AgentRecord): Promise<void> {
    const seq = this.records.length + 1;
    const stored = await infrastructure("write the agent journal", () =>
      this.journal.write(this.scope, seq, record),
    );
    // Another execution wrote this record first: its version is the one everyone continues from.
    this.records.push(asRecords([stored], this.scope)[0]!);
    await this.report(seq, this.records[seq - 1]!);
  }

  private report(seq: number, record: AgentRecord): Promise<void> {
    return infrastructure("record agent progress in the run's event log", () => this.ctx.report(seq, record));
  }
}

async function infrastructure<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof InfrastructureError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new InfrastructureError(`could not ${what}: ${reason}`, { cause: error });
  }
}
