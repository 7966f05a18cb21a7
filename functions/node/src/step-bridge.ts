import type { Queue, QueueMessage, WorkMessage } from "@aat/core";
import { CloudEvent, HTTP } from "cloudevents";
import { STEP_EVENT_TYPE } from "./cloudevents.js";

/**
 * The step bridge of the "eventing" worker feed: takes step messages off the aat step queue (the JetStream
 * stream's durable consumer "workers") and POSTs each to the Knative Broker (K_SINK) as a binary-mode
 * CloudEvent of type dev.aat.step, the form POST /v1/cloudevents/steps reads. A message is acked once the
 * Broker accepted it (2xx): from then on the Broker's channel (JetStream) holds it and the Trigger's
 * delivery spec retries it. Anything else hands it back to the queue after `retryDelayMs`, so it is never
 * lost between the two; the queue's own dedupe id travels as `aatdedupeid` so a double forward is absorbed.
 */

export const BRIDGE_SOURCE = "/aat/step-bridge";

export interface BridgeOptions {
  queue: Queue<WorkMessage>;
  /** The Broker's ingress URL (K_SINK, injected by the ContainerSource). */
  sink: string;
  fetch?: typeof fetch;
  /** Messages taken per receive (default 10). */
  batch?: number;
  /** How long a receive waits for messages (default 1 s). */
  waitMs?: number;
  /** Delay before a message the Broker refused is delivered again (default 2 s). */
  retryDelayMs?: number;
  /** Longest one POST may take (default 10 s). */
  timeoutMs?: number;
  logger?: { warn(fields: object, message: string): void };
}

export interface ForwardResult {
  forwarded: number;
  refused: number;
}

/** Takes one batch off the queue and forwards it; resolves when every message of it is settled. */
export async function forwardBatch(options: BridgeOptions): Promise<ForwardResult> {
  const send = options.fetch ?? fetch;
  const messages = await options.queue.receive({
    maxMessages: options.batch ?? 10,
    waitMs: options.waitMs ?? 1_000,
  });
  const result: ForwardResult = { forwarded: 0, refused: 0 };
  await Promise.all(
    messages.map(async (message) => {
      const { headers, body } = HTTP.binary(toCloudEvent(message));
      let problem: string | undefined;
      try {
        const answer = await send(options.sink, {
          method: "POST",
          headers: headers as Record<string, string>,
          body: body as string,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        await answer.body?.cancel();
        if (!answer.ok) problem = `the broker answered ${answer.status}`;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (problem === undefined) {
        await options.queue.ack(message);
        result.forwarded++;
      } else {
        options.logger?.warn(
          { messageId: message.id, sink: options.sink, error: problem },
          "step message not forwarded; it is delivered again later",
        );
        await options.queue.nack(message, { delayMs: options.retryDelayMs ?? 2_000 });
        result.refused++;
      }
    }),
  );
  return result;
}

export function toCloudEvent(message: QueueMessage<WorkMessage>): CloudEvent<WorkMessage> {
  return new CloudEvent<WorkMessage>({
    id: message.id,
    source: BRIDGE_SOURCE,
    type: STEP_EVENT_TYPE,
    datacontenttype: "application/json",
    data: message.body,
    ...(message.dedupeId ? { aatdedupeid: message.dedupeId } : {}),
    ...(message.attributes.traceparent ? { traceparent: message.attributes.traceparent } : {}),
    ...(message.attributes.tracestate ? { tracestate: message.attributes.tracestate } : {}),
  });
}

/** Forwards batch after batch until `stop()`, which waits for the batch in hand. */
export function runBridge(options: BridgeOptions): { stop(): Promise<void> } {
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      try {
        await forwardBatch(options);
      } catch (error) {
        // The queue itself failed (NATS down): its client reconnects; wait a little and ask again.
        options.logger?.warn({ error: (error as Error).message }, "receiving step messages failed");
        await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 2_000));
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
    },
  };
}
