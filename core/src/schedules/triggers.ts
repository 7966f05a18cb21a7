import type { PlanRepository } from "../plan/repository.js";
import type { PlanDefinition } from "../plan/schema.js";
import { CronSchedule } from "./cron.js";

/** One `schedule` trigger of the current version of a plan. */
export interface ScheduledTrigger {
  planId: string;
  /** The plan version the trigger was read from; its runs are pinned to it. */
  planVersion: number;
  /** Position in the plan's `triggers` list (all kinds counted), part of the claim key. */
  triggerIndex: number;
  schedule: CronSchedule;
  input: Record<string, unknown>;
  /** When that plan version was published (KV plans), the earliest a new schedule can fire. */
  publishedAt?: number;
}

/**
 * Reads the schedule triggers of every plan's current version. Definitions are cached per id and
 * version: a published version never changes.
 */
export class ScheduledTriggerSource {
  private readonly byVersion = new Map<string, ScheduledTrigger[]>();

  constructor(private readonly plans: PlanRepository) {}

  async current(): Promise<ScheduledTrigger[]> {
    const out: ScheduledTrigger[] = [];
    for (const summary of await this.plans.list()) {
      const key = `${summary.id}@${summary.version}`;
      let triggers = this.byVersion.get(key);
      if (!triggers) {
        const stored = await this.plans.get(summary.id, summary.version);
        if (!stored) continue;
        triggers = scheduleTriggersOf(stored.definition, stored.version, stored.publishedAt);
        this.byVersion.set(key, triggers);
      }
      out.push(...triggers);
    }
    return out;
  }
}

export function scheduleTriggersOf(
  definition: PlanDefinition,
  version: number,
  publishedAt?: number,
): ScheduledTrigger[] {
  const out: ScheduledTrigger[] = [];
  definition.triggers.forEach((trigger, triggerIndex) => {
    if (trigger.type !== "schedule") return;
    out.push({
      planId: definition.id,
      planVersion: version,
      triggerIndex,
      // The plan loader has rejected bad patterns and zones, so this does not throw for stored plans.
      schedule: new CronSchedule(trigger.cron, trigger.timezone),
      input: trigger.input ?? {},
      ...(publishedAt !== undefined ? { publishedAt } : {}),
    });
  });
  return out;
}
