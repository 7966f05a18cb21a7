import type { Msg } from "@nats-io/transport-node";
import { Puller, type PullTarget } from "./pull.js";

export interface ConsumerLoopOptions {
  /** Messages per pull. */
  batch: number;
  /** How long one pull waits for a first message before the loop asks again. */
  waitMs: number;
  graceMs: number;
  /** See PullerOptions.lateHoldMs. */
  lateHoldMs: number;
  onError: (error: Error) => void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
const HANDLER_RETRY_DELAY_NS = 1_000_000_000;

/**
 * Pulls from one of the queue's internal consumers for as long as the queue is open and hands each message
 * to `handle`, one at a time. A handler that fails gets its message back a second later (nak with delay);
 * a pull that fails is retried with growing pauses. Every instance of the queue runs these loops; the
 * durable consumer gives each message to one of them.
 */
export class ConsumerLoop {
  private readonly abort = new AbortController();
  private readonly running: Promise<void>;
  private readonly puller: Puller;

  constructor(
    private readonly target: PullTarget,
    private readonly handle: (message: Msg) => Promise<void>,
    private readonly options: ConsumerLoopOptions,
  ) {
    this.puller = new Puller(target, { lateHoldMs: options.lateHoldMs, onError: options.onError });
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    await this.puller.close();
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    let retryMs = FIRST_RETRY_MS;
    while (!signal.aborted) {
      let messages: Msg[];
      try {
        messages = await this.puller.pull({
          batch: this.options.batch,
          waitMs: this.options.waitMs,
          graceMs: this.options.graceMs,
          signal,
        });
        retryMs = FIRST_RETRY_MS;
      } catch (error) {
        if (signal.aborted) return;
        this.options.onError(error as Error);
        await pause(retryMs, signal);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
        continue;
      }
      for (const message of messages) {
        // Messages left unhandled at close are redelivered to another instance after the ack wait.
        if (signal.aborted) return;
        try {
          await this.handle(message);
        } catch (error) {
          this.options.onError(error as Error);
          if (message.reply && !this.target.connection.isClosed()) {
            this.target.connection.publish(
              message.reply,
              `-NAK ${JSON.stringify({ delay: HANDLER_RETRY_DELAY_NS })}`,
            );
          }
        }
      }
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
