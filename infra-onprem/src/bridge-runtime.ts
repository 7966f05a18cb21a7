import type {
  AatConfig,
  DeadLetter,
  PublishOptions,
  PublishResult,
  Queue,
  QueueMessage,
  ReceiveOptions,
  WorkMessage,
} from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { type BridgeOptions, runBridge } from "./bridge.js";

/**
 * The step queue as a worker runtime sees it inside the bridge: everything passes through except
 * `receive`, which finds nothing (after waiting, so the worker loop does not spin). The bridge owns the
 * queue's consumer and forwards each message to the Broker instead.
 */
export class ForwardOnlyQueue implements Queue<WorkMessage> {
  constructor(private readonly inner: Queue<WorkMessage>) {}

  get name(): string {
    return this.inner.name;
  }

  get maxDeliveries(): number | undefined {
    return this.inner.maxDeliveries;
  }

  get depth(): Queue<WorkMessage>["depth"] {
    return this.inner.depth ? () => this.inner.depth!() : undefined;
  }

  async receive(options?: ReceiveOptions): Promise<Array<QueueMessage<WorkMessage>>> {
    await new Promise((resolve) => setTimeout(resolve, Math.min(options?.waitMs ?? 1_000, 1_000)));
    return [];
  }

  publish(body: WorkMessage, options?: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(body, options);
  }
  ack(message: QueueMessage<WorkMessage>): Promise<void> {
    return this.inner.ack(message);
  }
  nack(message: QueueMessage<WorkMessage>, options?: { delayMs?: number }): Promise<void> {
    return this.inner.nack(message, options);
  }
  extendLease(message: QueueMessage<WorkMessage>, ms: number): Promise<void> {
    return this.inner.extendLease(message, ms);
  }
  deadLetter(message: QueueMessage<WorkMessage>, reason: string): Promise<void> {
    return this.inner.deadLetter(message, reason);
  }
  listDeadLetters(options?: { limit?: number }): Promise<Array<DeadLetter<WorkMessage>>> {
    return this.inner.listDeadLetters(options);
  }
  redrive(deadLetterId: string): Promise<void> {
    return this.inner.redrive(deadLetterId);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface BridgeRuntimeOptions extends Omit<BridgeOptions, "queue"> {
  config: AatConfig;
  print?: (text: string) => void;
}

/**
 * The bridge process: a node runtime in role worker whose worker never pulls (ForwardOnlyQueue), so it
 * still resumes unfinished runs at start, runs the scheduler and the stalled-run sweep — the jobs a pull
 * worker does besides executing steps, which the pushed worker Service (role api) does not — and next to
 * it the forwarder, which takes the step messages off the queue and posts them to the Broker.
 */
export async function startBridgeRuntime(
  options: BridgeRuntimeOptions,
): Promise<{ runtime: NodeRuntime; stop(): Promise<void> }> {
  const { config, print, ...bridge } = options;
  let queue: Queue<WorkMessage> | undefined;
  const runtime = await startNodeRuntime({
    config,
    role: "worker",
    ...(print ? { print } : {}),
    decorateStores: (stores) => {
      queue = stores.queue;
      return { kv: stores.kv, queue: new ForwardOnlyQueue(stores.queue) };
    },
  });
  if (!queue) throw new Error("the node runtime opened no step queue");
  const forwarder = runBridge({ ...bridge, queue, logger: bridge.logger ?? runtime.logger });
  return {
    runtime,
    async stop() {
      await forwarder.stop();
      await runtime.stop();
    },
  };
}
