/**
 * Counters of the alerts workflow. A seam: the runtime passes an implementation backed by its metrics
 * registry (/metrics) when it has one; `CountingAlertMetrics` keeps them in memory and renders the
 * Prometheus text format, so they can be served and asserted without one.
 */
export interface AlertMetrics {
  ingested(source: string, format: string): void;
  duplicate(source: string): void;
  rejected(source: string, reason: string): void;
  /** From receipt of the alert to the start of its triage run. */
  triageStartLatency(ms: number): void;
}

export const noAlertMetrics: AlertMetrics = {
  ingested: () => undefined,
  duplicate: () => undefined,
  rejected: () => undefined,
  triageStartLatency: () => undefined,
};

export class CountingAlertMetrics implements AlertMetrics {
  readonly counts = new Map<string, number>();
  latency = { count: 0, sumMs: 0 };

  ingested(source: string, format: string): void {
    this.bump(`aat_alerts_ingested_total{source="${source}",format="${format}"}`);
  }
  duplicate(source: string): void {
    this.bump(`aat_alerts_duplicates_merged_total{source="${source}"}`);
  }
  rejected(source: string, reason: string): void {
    this.bump(`aat_alerts_rejected_total{source="${source}",reason="${reason}"}`);
  }
  triageStartLatency(ms: number): void {
    this.latency.count += 1;
    this.latency.sumMs += ms;
  }

  /** Sum of a counter over its labels, e.g. total("aat_alerts_ingested_total"). */
  total(name: string): number {
    let sum = 0;
    for (const [key, value] of this.counts) if (key.startsWith(`${name}{`)) sum += value;
    return sum;
  }

  render(): string {
    const lines = [...this.counts].map(([k, v]) => `${k} ${v}`);
    lines.push(`aat_alerts_triage_start_latency_seconds_sum ${this.latency.sumMs / 1000}`);
    lines.push(`aat_alerts_triage_start_latency_seconds_count ${this.latency.count}`);
    return `${lines.join("\n")}\n`;
  }

  private bump(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
}
