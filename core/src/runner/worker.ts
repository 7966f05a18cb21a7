import type { Queue, QueueMessage } from "../ports/queue.js";
import type { WorkMessage } from "./messages.js";
import type { HandleOutcome, Runner } from "./runner.js";

export interface WorkerOptions {
  /** Messages handled at once (default 8). */
  concurrency?: number;
  /** How long one receive call may wait for work (default 1 s). */
  pollWaitMs?: number;
  /** Extend a message's lease and its step's claim this often while it is being handled (default 10 s). */
  heartbeatMs?: number;
  /** Lease granted by each heartbeat (default 30 s). */
  leaseMs?: number;
  onOutcome?: (outcome: HandleOutcome, message: QueueMessage<WorkMessage>) => void;
  onError?: (error: unknown, message?: QueueMessage<WorkMessage>) => void;
}

/**
 * Pulls work messages and hands them to the Runner with bounded concurrency. Long steps keep their
 * lease alive with heartbeats so they are not redelivered while their holder lives. `stop()` stops
 * taking work and resolves when in-flight messages are done.
 */
export class Worker {
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Handling failures in a row (a store or the queue is down): pulling pauses longer each time. */
  private failuresInRow = 0;
  private loop?: Promise<void>;

  constructor(
    private readonly runner: Runner,
    private readonly queue: Queue<WorkMessage>,
    private readonly options: WorkerOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.pull();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all(this.inFlight);
  }

  /** Handle what is ready now, without waiting for more (tests and benchmarks drain with this). */
  async drain(maxRounds = Number.POSITIVE_INFINITY): Promise<number> {
    let handled = 0;
    for (let round = 0; round < maxRounds; round++) {
      const messages = await this.queue.receive({ maxMessages: this.options.concurrency ?? 8 });
      if (messages.length === 0) break;
      await Promise.all(messages.map((m) => this.handleOne(m)));
      handled += messages.length;
    }
    return handled;
  }

  private async pull(): Promise<void> {
    const concurrency = this.options.concurrency ?? 8;
    while (this.running) {
      const free = concurrency - this.inFlight.size;
      if (free <= 0) {
        await Promise.race(this.inFlight);
        continue;
      }
      if (this.failuresInRow > 0) {
        // Back off while our own machinery fails, so an outage does not burn the messages' deliveries.
        const until = Date.now() + Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failuresInRow, 8));
        while (this.running && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
        if (!this.running) break;
      }
      let messages: Array<QueueMessage<WorkMessage>>;
      try {
        messages = await this.queue.receive({ maxMessages: free, waitMs: this.options.pollWaitMs ?? 1000 });
      } catch (error) {
        this.options.onError?.(error);
        await sleep(1000);
        continue;
      }
      for (const message of messages) {
        const task = this.handleOne(message).finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
      }
    }
  }

  private async handleOne(message: QueueMessage<WorkMessage>): Promise<void> {
    const heartbeat = setInterval(() => {
      this.queue
        .extendLease(message, this.options.leaseMs ?? 30_000)
        .catch((error) => this.options.onError?.(error, message));
      // The step's dedupe claim too: a live long step must not be taken over by a second worker.
      this.runner.heartbeat(message).catch((error) => this.options.onError?.(error, message));
    }, this.options.heartbeatMs ?? 10_000);
    try {
      const outcome = await this.runner.handle(message);
      this.failuresInRow = outcome === "retry_later" ? this.failuresInRow + 1 : 0;
      this.options.onOutcome?.(outcome, message);
    } catch (error) {
      this.failuresInRow++;
      // The message stays unacked: its lease ends and another delivery retries it.
      this.options.onError?.(error, message);
    } finally {
      clearInterval(heartbeat);
    }
  }
}

const MAX_BACKOFF_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
