import type { PlanRepository, PlanSummary, StoredPlan } from "../plan/repository.js";
import type { Trigger } from "../plan/schema.js";

export type WebhookTrigger = Extract<Trigger, { type: "webhook" }>;

export type TriggerLookup =
  | { found: true; plan: StoredPlan; trigger: WebhookTrigger; triggerId: string }
  | { found: false }
  | { found: "ambiguous"; planIds: string[] };

/** How long the list of current plan versions is reused before it is read again (see WebhookTriggers). */
export const PLAN_LIST_MAX_AGE_MS = 1_000;

/**
 * Finds the plan whose current version declares webhook trigger `triggerId` (a trigger's id defaults
 * to its plan's id). Definitions are cached by id and version, which never change.
 *
 * The list of current plan versions (one KeyValue listing) is reused for up to `maxAgeMs` instead of
 * being read on every delivery. Consistency rule: a trigger that is not found, or found in several
 * plans, in the reused list is looked up again in a freshly read one, so a newly published trigger
 * works at once on every replica; a plan version published on this process (`invalidate`) takes effect
 * at once; a version published on another replica that changes or removes a trigger takes effect
 * there within `maxAgeMs` (until then deliveries go to the previous version, as if they had arrived
 * just before the publish).
 */
export class WebhookTriggers {
  private readonly cache = new Map<string, StoredPlan>();
  private listed: { at: number; plans: Promise<PlanSummary[]> } | undefined;

  constructor(
    private readonly plans: PlanRepository,
    private readonly maxAgeMs = PLAN_LIST_MAX_AGE_MS,
  ) {}

  /** Forgets the reused plan list: call after publishing or syncing plans in this process. */
  invalidate(): void {
    this.listed = undefined;
  }

  async find(triggerId: string): Promise<TriggerLookup> {
    const reused = this.listed !== undefined && performance.now() - this.listed.at < this.maxAgeMs;
    const lookup = await this.findIn(await this.summaries(), triggerId);
    if (lookup.found === true || !reused) return lookup;
    this.invalidate();
    return this.findIn(await this.summaries(), triggerId);
  }

  /** The current plan versions, read at most once per `maxAgeMs` (concurrent callers share one read). */
  private summaries(): Promise<PlanSummary[]> {
    const now = performance.now();
    if (this.listed === undefined || now - this.listed.at >= this.maxAgeMs) {
      const plans = this.plans.list();
      const listed = { at: now, plans };
      this.listed = listed;
      // A failed read is not reused: the next delivery tries again.
      plans.catch(() => {
        if (this.listed === listed) this.listed = undefined;
      });
    }
    return this.listed.plans;
  }

  private async findIn(summaries: PlanSummary[], triggerId: string): Promise<TriggerLookup> {
    const matches: Array<{ plan: StoredPlan; trigger: WebhookTrigger }> = [];
    for (const summary of summaries) {
      const plan = await this.load(summary.id, summary.version);
      if (!plan) continue;
      for (const trigger of plan.definition.triggers) {
        if (trigger.type === "webhook" && (trigger.id ?? plan.definition.id) === triggerId) {
          matches.push({ plan, trigger });
        }
      }
    }
    const [first, ...others] = matches;
    if (!first) return { found: false };
    if (others.length > 0) {
      return { found: "ambiguous", planIds: [...new Set(matches.map((m) => m.plan.definition.id))].sort() };
    }
    return { found: true, ...first, triggerId };
  }

  private async load(id: string, version: number): Promise<StoredPlan | undefined> {
    const key = `${id}@${version}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const plan = await this.plans.get(id, version);
    if (plan) this.cache.set(key, plan);
    return plan;
  }
}
