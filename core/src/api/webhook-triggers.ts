import type { PlanRepository, StoredPlan } from "../plan/repository.js";
import type { Trigger } from "../plan/schema.js";

export type WebhookTrigger = Extract<Trigger, { type: "webhook" }>;

export type TriggerLookup =
  | { found: true; plan: StoredPlan; trigger: WebhookTrigger; triggerId: string }
  | { found: false }
  | { found: "ambiguous"; planIds: string[] };

/**
 * Finds the plan whose current version declares webhook trigger `triggerId` (a trigger's id defaults
 * to its plan's id). Plans are read per request, so publishing a version with a new trigger takes
 * effect at once; definitions are cached by id and version, which never change.
 */
export class WebhookTriggers {
  private readonly cache = new Map<string, StoredPlan>();

  constructor(private readonly plans: PlanRepository) {}

  async find(triggerId: string): Promise<TriggerLookup> {
    const matches: Array<{ plan: StoredPlan; trigger: WebhookTrigger }> = [];
    for (const summary of await this.plans.list()) {
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
