import type { Clock } from "@aat/core";

interface Kept {
  until: number;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * JetStream's working indicator (`+WPI`) restarts a delivery's ack wait; it cannot ask for a longer one.
 * To hold a message for longer than the ack wait, this keeps sending it every half ack wait until the
 * wanted lease end is covered, or until the message is acked, nacked or dead-lettered here. The keeping
 * lives in this process: if the process dies, the message is redelivered one ack wait later, which is
 * the point of a lease.
 */
export class LeaseKeeper {
  private readonly kept = new Map<string, Kept>();

  constructor(
    private readonly ackWaitMs: number,
    private readonly clock: Clock,
    private readonly sendWorking: (receipt: string) => void,
  ) {}

  /** Keeps the delivery alive until `until` (epoch ms). The caller has just sent one indicator itself. */
  keep(receipt: string, until: number): void {
    const existing = this.kept.get(receipt);
    if (existing) {
      existing.until = Math.max(existing.until, until);
      return;
    }
    if (this.clock.now() + this.ackWaitMs >= until) return;
    this.schedule(receipt, until);
  }

  release(receipt: string): void {
    const existing = this.kept.get(receipt);
    if (!existing) return;
    clearTimeout(existing.timer);
    this.kept.delete(receipt);
  }

  clear(): void {
    for (const { timer } of this.kept.values()) clearTimeout(timer);
    this.kept.clear();
  }

  private schedule(receipt: string, until: number): void {
    const timer = setTimeout(
      () => {
        const current = this.kept.get(receipt);
        if (!current) return;
        this.sendWorking(receipt);
        this.kept.delete(receipt);
        if (this.clock.now() + this.ackWaitMs < current.until) this.schedule(receipt, current.until);
      },
      Math.max(1, Math.floor(this.ackWaitMs / 2)),
    );
    timer.unref?.();
    this.kept.set(receipt, { until, timer });
  }
}
