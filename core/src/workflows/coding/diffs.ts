import type { RunState } from "../../graph/types.js";
import type { LoggedEvent } from "../../runner/run-store.js";

/** The tool that proposes a diff for review and the one that applies it (dangerous: approval). */
export const PROPOSE_PATCH_TOOL = "code.propose_patch";
export const APPLY_PATCH_TOOL = "code.apply_patch";

export interface RunDiffFile {
  path: string;
  status: "added" | "modified" | "deleted";
  additions: number;
  deletions: number;
}

export interface RunDiff {
  /** Stable within the run: the step key, with `#<callId>` for a call made by an agent step. */
  id: string;
  stepKey: string;
  /** A model's tool call inside an agent step, or a plan's tool step. */
  origin: "agent_call" | "tool_step";
  callId?: string;
  repo?: string;
  /**
   * proposed: checked to apply cleanly, nothing written; awaiting_approval: an apply waits for a
   * person (POST …/apply or …/reject); applied: committed on a new branch; rejected: a person refused
   * it; failed: the apply failed (the error says why).
   */
  status: "proposed" | "awaiting_approval" | "applied" | "rejected" | "failed";
  diff: string;
  files?: RunDiffFile[];
  applied?: { branch: string; base: string; commit: string; stat: string };
  decision?: { approved: boolean; by: string; rationale?: string };
  error?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function filesOf(v: unknown): RunDiffFile[] | undefined {
  return Array.isArray(v) ? (v.filter(isObj) as unknown as RunDiffFile[]) : undefined;
}

function appliedOf(output: unknown): RunDiff["applied"] | undefined {
  if (!isObj(output) || typeof output.commit !== "string" || typeof output.branch !== "string")
    return undefined;
  return {
    branch: output.branch,
    base: str(output.base) ?? "",
    commit: output.commit,
    stat: str(output.stat) ?? "",
  };
}

/**
 * The diffs of a run, oldest first: what code.propose_patch returned (in agent steps' transcripts and
 * in tool steps) and every code.apply_patch call, done, refused or waiting for approval. Tool steps
 * are recognised from their approval proposal (apply) or the shape of their output (propose: a diff
 * and its files), since a run's state does not name the tool a step runs.
 */
export function collectRunDiffs(state: RunState, events: readonly LoggedEvent[]): RunDiff[] {
  const out: RunDiff[] = [];
  const seen = new Set<string>();
  const push = (diff: RunDiff) => {
    if (seen.has(diff.id)) return;
    seen.add(diff.id);
    out.push(diff);
  };
  const applySteps = new Set<string>();

  for (const { event } of events) {
    const e = event as unknown as Obj;
    if (e.type === "step.suspended" && isObj(e.suspension)) {
      const proposal = isObj(e.suspension.request) ? e.suspension.request.proposal : undefined;
      if (isObj(proposal) && proposal.kind === "tool.call" && proposal.tool === APPLY_PATCH_TOOL)
        applySteps.add(String(e.key));
    }
    if (e.type !== "step.progress" || !isObj(e.progress) || e.progress.kind !== "agent.tool") continue;
    const record = e.progress;
    const input = isObj(record.input) ? record.input : {};
    const outcome = isObj(record.outcome) ? record.outcome : {};
    const key = String(e.key);
    const callId = String(record.callId);
    const base = { id: `${key}#${callId}`, stepKey: key, origin: "agent_call" as const, callId };
    const repo = str(input.repo);
    if (record.tool === PROPOSE_PATCH_TOOL && outcome.kind === "output" && isObj(outcome.output)) {
      const diff = str(outcome.output.diff);
      if (diff === undefined) continue;
      const files = filesOf(outcome.output.files);
      push({ ...base, ...(repo ? { repo } : {}), status: "proposed", diff, ...(files ? { files } : {}) });
    } else if (record.tool === APPLY_PATCH_TOOL && typeof input.diff === "string") {
      const decision = isObj(record.approval)
        ? (record.approval as unknown as RunDiff["decision"])
        : undefined;
      const applied = outcome.kind === "output" ? appliedOf(outcome.output) : undefined;
      const files =
        outcome.kind === "output" && isObj(outcome.output) ? filesOf(outcome.output.files) : undefined;
      push({
        ...base,
        ...(repo ? { repo } : {}),
        status: applied ? "applied" : outcome.kind === "refused" ? "rejected" : "failed",
        diff: input.diff,
        ...(files ? { files } : {}),
        ...(applied ? { applied } : {}),
        ...(decision ? { decision } : {}),
        ...(outcome.kind === "error" ? { error: str(outcome.message) ?? "the apply failed" } : {}),
      });
    }
  }

  for (const step of Object.values(state.steps)) {
    const request = step.approval?.request;
    const proposal = isObj(request?.proposal) ? request.proposal : undefined;
    const input = isObj(proposal?.input) ? proposal.input : undefined;
    const isApply = proposal?.tool === APPLY_PATCH_TOOL && typeof input?.diff === "string";
    // A proposed call still waiting (agent calls reach the event log only once decided).
    if (isApply && step.status === "waiting_approval") {
      const callId = proposal?.kind === "agent.tool_call" ? str(proposal.callId) : undefined;
      push({
        id: callId ? `${step.key}#${callId}` : step.key,
        stepKey: step.key,
        origin: callId ? "agent_call" : "tool_step",
        ...(callId ? { callId } : {}),
        ...(str(input?.repo) ? { repo: str(input?.repo)! } : {}),
        status: "awaiting_approval",
        diff: input!.diff as string,
      });
      continue;
    }
    if (isApply && proposal?.kind === "tool.call") applySteps.add(step.key);
    if (applySteps.has(step.key) && input && typeof input.diff === "string") {
      const decision = step.approval?.decision;
      const applied = step.status === "succeeded" ? appliedOf(step.output) : undefined;
      const files = applied && isObj(step.output) ? filesOf(step.output.files) : undefined;
      push({
        id: step.key,
        stepKey: step.key,
        origin: "tool_step",
        ...(str(input.repo) ? { repo: str(input.repo)! } : {}),
        status: applied
          ? "applied"
          : decision?.approved === false || step.status === "rejected"
            ? "rejected"
            : step.status === "failed" || step.status === "dead_lettered"
              ? "failed"
              : "awaiting_approval",
        diff: input.diff,
        ...(files ? { files } : {}),
        ...(applied ? { applied } : {}),
        ...(decision
          ? {
              decision: {
                approved: decision.approved,
                by: decision.by,
                ...(decision.rationale ? { rationale: decision.rationale } : {}),
              },
            }
          : {}),
        ...(step.error && !applied ? { error: step.error.message } : {}),
      });
      continue;
    }
    // A tool step of code.propose_patch: its output is the diff and its files.
    if (step.status === "succeeded" && isObj(step.output)) {
      const diff = str(step.output.diff);
      const files = filesOf(step.output.files);
      // Exactly code.propose_patch's output, so set steps and plan outputs that quote a diff do not count.
      const exact = Object.keys(step.output).length === 2;
      if (diff !== undefined && files && exact && !step.key.startsWith("$"))
        push({ id: step.key, stepKey: step.key, origin: "tool_step", status: "proposed", diff, files });
    }
  }
  // The same diff proposed, checked again by a tool step and then applied is one change for a reviewer:
  // a proposal is listed only when no later entry carries the same diff.
  return out.filter(
    (diff, i) => diff.status !== "proposed" || !out.slice(i + 1).some((later) => later.diff === diff.diff),
  );
}
