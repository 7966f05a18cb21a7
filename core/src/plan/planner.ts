import { type CompiledExpression, compileExpression } from "../expr/index.js";
import { inSpan } from "../telemetry/tracing.js";
import type { PlanRepository, StoredPlan } from "./repository.js";
import type { MatchRule, Workflow } from "./schema.js";

export interface PlanRequest {
  workflow?: Workflow;
  /** Event type, e.g. `alert.received`. */
  event?: string;
  input: unknown;
}

export type PlanMatch =
  | { ok: true; plan: StoredPlan /** Index of the matching rule in the plan's `match`. */; rule?: number }
  | { ok: false; reason: string; candidates: string[] };

interface CompiledPlan {
  plan: StoredPlan;
  rules: Array<{ rule: MatchRule; index: number; when?: CompiledExpression }>;
}

interface Candidate {
  plan: StoredPlan;
  rule: MatchRule;
  index: number;
}

/**
 * Chooses the plan for a trigger: among the current versions of the plans (of the workflow, when
 * given), the match rules whose `event` equals the request's and whose `when` holds. Ties are broken
 * deterministically: higher `priority`, then the more specific rule (event and when > event only >
 * when only > neither), then plan id ascending, then rule order.
 */
export class Planner {
  private readonly compiled = new Map<string, CompiledPlan>();

  constructor(private readonly repository: PlanRepository) {}

  match(request: PlanRequest): Promise<PlanMatch> {
    const attributes = {
      ...(request.workflow ? { "aat.workflow": request.workflow } : {}),
      ...(request.event ? { "aat.event": request.event } : {}),
    };
    return inSpan("plan.match", { attributes }, async (span) => {
      const match = await this.matchNow(request);
      if (match.ok) span.setAttribute("aat.plan.id", match.plan.definition.id);
      return match;
    });
  }

  private async matchNow(request: PlanRequest): Promise<PlanMatch> {
    const summaries = (await this.repository.list()).filter(
      (s) => request.workflow === undefined || s.workflow === request.workflow,
    );
    const data = scope(request);
    const matched: Candidate[] = [];
    for (const summary of summaries) {
      const compiled = await this.compile(summary.id, summary.version);
      if (!compiled) continue;
      for (const { rule, index, when } of compiled.rules) {
        if (rule.event !== undefined && rule.event !== request.event) continue;
        if (when && !truthy(await when.evaluate(data).catch(() => false))) continue;
        matched.push({ plan: compiled.plan, rule, index });
      }
    }
    matched.sort(
      (a, b) =>
        b.rule.priority - a.rule.priority ||
        specificity(b.rule) - specificity(a.rule) ||
        compareIds(a.plan.definition.id, b.plan.definition.id) ||
        a.index - b.index,
    );
    const best = matched[0];
    if (best) return { ok: true, plan: best.plan, rule: best.index };
    const about = [
      request.event !== undefined ? `event "${request.event}"` : "a request without event",
      request.workflow !== undefined ? `in workflow "${request.workflow}"` : "in any workflow",
    ].join(" ");
    return {
      ok: false,
      reason: `no plan matches ${about} (${summaries.length} plan${summaries.length === 1 ? "" : "s"} considered); add a match rule for it to a plan, or start a plan by id`,
      candidates: summaries.map((s) => s.id),
    };
  }

  /** Compiled match rules per (id, version); versions never change, so entries never go stale. */
  private async compile(id: string, version: number): Promise<CompiledPlan | undefined> {
    const key = `${id}@${version}`;
    const cached = this.compiled.get(key);
    if (cached) return cached;
    const plan = await this.repository.get(id, version);
    if (!plan) return undefined;
    // A rule whose `when` does not compile (only possible for plans that skipped the loader) never matches.
    const rules = plan.definition.match.flatMap((rule, index) => {
      if (rule.when === undefined) return [{ rule, index }];
      try {
        return [{ rule, index, when: compileExpression(rule.when, ["match", index, "when"]) }];
      } catch {
        return [];
      }
    });
    const compiled = { plan, rules };
    this.compiled.set(key, compiled);
    return compiled;
  }
}

/** `{ event, input }` plus the input's own top-level fields, so `alert.severity` works directly. */
function scope(request: PlanRequest): Record<string, unknown> {
  const fields =
    request.input !== null && typeof request.input === "object" && !Array.isArray(request.input)
      ? (request.input as Record<string, unknown>)
      : {};
  return { ...fields, event: request.event, input: request.input };
}

function specificity(rule: MatchRule): number {
  if (rule.event !== undefined && rule.when !== undefined) return 3;
  if (rule.event !== undefined) return 2;
  if (rule.when !== undefined) return 1;
  return 0;
}

/** Code-unit order, independent of the host's locale. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSONata's idea of truth: no value, false, 0, "" and empty arrays are false. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  return Boolean(value);
}
