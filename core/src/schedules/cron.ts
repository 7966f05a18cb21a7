import { Cron } from "croner";

/**
 * Cron arithmetic for schedule triggers (croner does the calendar and time-zone work, including DST:
 * a local time that does not exist on a spring-forward day fires at the first instant after the gap,
 * and an hour that repeats in autumn fires once).
 */
export class CronSchedule {
  private readonly cron: Cron;

  constructor(
    readonly pattern: string,
    readonly timezone: string,
  ) {
    // paused: this object only computes times, it never runs a timer of its own.
    this.cron = new Cron(pattern, { timezone, paused: true });
  }

  /** The most recent tick at or before `epochMs`, or undefined when there was none. */
  latestAtOrBefore(epochMs: number): number | undefined {
    // previousRuns excludes a tick equal to the reference, so look from just after it.
    const [latest] = this.cron.previousRuns(1, new Date(epochMs + 1));
    return latest?.getTime();
  }

  /** The next `count` ticks strictly after `epochMs`. */
  nextAfter(epochMs: number, count: number): number[] {
    return this.cron.nextRuns(count, new Date(epochMs)).map((date) => date.getTime());
  }
}
