import {
  type AatConfig,
  ForwardingQueue,
  type Queue,
  type QueueMessage,
  type ReceiveOptions,
  type WorkMessage,
} from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "./runtime.js";
import { type BridgeOptions, runBridge } from "./step-bridge.js";

/**
 * The step queue as a worker runtime sees it inside the bridge: everything passes through except
 * `receive`, which finds nothing (after waiting, so the worker loop does not spin). The bridge owns the
 * queue's consumer and forwards each message to the Broker instead.
 */
export class ForwardOnlyQueue extends ForwardingQueue<WorkMessage> {
  override async receive(options?: ReceiveOptions): Promise<Array<QueueMessage<WorkMessage>>> {
    await new Promise((resolve) => setTimeout(resolve, Math.min(options?.waitMs ?? 1_000, 1_000)));
    return [];
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
