import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { messageOf } from "./connection.js";
import type { QueueTopology } from "./topology.js";

export interface ProvisionSettings {
  ackWaitMs: number;
  maxDeliver: number;
  maxAckPending: number;
  duplicateWindowMs: number;
  storage: "file" | "memory";
  replicas: number;
}

/** Lease of the internal consumers: a process that dies holding one of their messages delays it this long. */
const INTERNAL_ACK_WAIT_MS = 30_000;
/** Dead letters are written with an idempotency id; this window covers retries of a failed write. */
const DEAD_LETTER_DUPLICATE_WINDOW_MS = 10 * 60_000;

const nanos = (ms: number) => ms * 1_000_000;

/**
 * Creates the streams and durable consumers of a queue, or brings existing ones to the wanted settings.
 * Safe to run from any number of processes at once. What the server cannot change (retention, storage,
 * ack policy) fails with an error that names the object and says how to get out of it.
 */
export async function provisionQueue(
  manager: JetStreamManager,
  topology: QueueTopology,
  settings: ProvisionSettings,
  who: string,
): Promise<void> {
  const storage = settings.storage === "memory" ? StorageType.Memory : StorageType.File;
  await ensureStream(
    manager,
    {
      name: topology.stream,
      subjects: [topology.subject, topology.delayedSubject, topology.exhaustedSubject],
      retention: RetentionPolicy.Workqueue,
      storage,
      num_replicas: settings.replicas,
      duplicate_window: nanos(settings.duplicateWindowMs),
    },
    who,
  );
  await ensureStream(
    manager,
    {
      name: topology.deadLetterStream,
      subjects: [topology.deadLetterSubject],
      retention: RetentionPolicy.Limits,
      storage,
      num_replicas: settings.replicas,
      duplicate_window: nanos(DEAD_LETTER_DUPLICATE_WINDOW_MS),
    },
    who,
  );
  const pullConsumer = (name: string, filter: string) => ({
    durable_name: name,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  await ensureConsumer(
    manager,
    topology.stream,
    {
      ...pullConsumer(topology.consumer, topology.subject),
      ack_wait: nanos(settings.ackWaitMs),
      max_deliver: settings.maxDeliver,
      max_ack_pending: settings.maxAckPending,
    },
    who,
  );
  // Delayed messages sit unacknowledged (nak'ed until due) in this consumer, so it must hold any number.
  for (const [name, filter] of [
    [topology.delayedConsumer, topology.delayedSubject],
    [topology.exhaustedConsumer, topology.exhaustedSubject],
  ] as const) {
    await ensureConsumer(
      manager,
      topology.stream,
      {
        ...pullConsumer(name, filter),
        ack_wait: nanos(INTERNAL_ACK_WAIT_MS),
        max_deliver: -1,
        max_ack_pending: -1,
      },
      who,
    );
  }
}

/** Deletes a queue's streams (their consumers go with them); missing ones are fine. */
export async function deleteQueueStreams(manager: JetStreamManager, topology: QueueTopology): Promise<void> {
  for (const name of [topology.stream, topology.deadLetterStream]) {
    try {
      await manager.streams.delete(name);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    }
  }
}

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

type WantedStream = Pick<
  StreamConfig,
  "name" | "subjects" | "retention" | "storage" | "num_replicas" | "duplicate_window"
>;

async function ensureStream(manager: JetStreamManager, wanted: WantedStream, who: string): Promise<void> {
  let info = await streamInfo(manager, wanted.name);
  if (!info) {
    try {
      await manager.streams.add(wanted);
      return;
    } catch (error) {
      // Another process may have created it between our look and our add; then compare with theirs.
      info = await streamInfo(manager, wanted.name);
      if (!info) {
        throw new Error(`${who}: cannot create stream ${wanted.name}: ${messageOf(error)}`, { cause: error });
      }
    }
  }
  const existing = info.config;
  const fixed: Array<[string, unknown, unknown]> = [
    ["retention", existing.retention, wanted.retention],
    ["storage", existing.storage, wanted.storage],
  ];
  for (const [field, have, want] of fixed) {
    if (have !== want) {
      throw new Error(
        `${who}: stream ${wanted.name} exists with ${field} "${String(have)}" but this queue needs "${String(want)}", ` +
          `which JetStream cannot change on an existing stream. Delete it (nats stream rm ${wanted.name}) ` +
          "if its messages may go, or configure another stream name.",
      );
    }
  }
  const subjects = [...new Set([...(existing.subjects ?? []), ...wanted.subjects])];
  const changed =
    subjects.length !== (existing.subjects ?? []).length ||
    existing.duplicate_window !== wanted.duplicate_window ||
    existing.num_replicas !== wanted.num_replicas;
  if (!changed) return;
  try {
    await manager.streams.update(wanted.name, {
      ...existing,
      subjects,
      duplicate_window: wanted.duplicate_window,
      num_replicas: wanted.num_replicas,
    });
  } catch (error) {
    throw new Error(
      `${who}: stream ${wanted.name} exists with other settings and updating it failed: ${messageOf(error)}. ` +
        `Wanted subjects ${JSON.stringify(wanted.subjects)}, duplicate window ${wanted.duplicate_window / 1e6} ms, ` +
        `${wanted.num_replicas} replica(s).`,
      { cause: error },
    );
  }
}

async function streamInfo(manager: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await manager.streams.info(name);
  } catch (error) {
    if (isApiError(error, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw error;
  }
}

type WantedConsumer = Partial<ConsumerConfig> & { durable_name: string };

async function ensureConsumer(
  manager: JetStreamManager,
  stream: string,
  wanted: WantedConsumer,
  who: string,
): Promise<void> {
  const name = wanted.durable_name;
  let info = await consumerInfo(manager, stream, name);
  if (!info) {
    try {
      await manager.consumers.add(stream, wanted);
      return;
    } catch (error) {
      info = await consumerInfo(manager, stream, name);
      if (!info) {
        throw new Error(`${who}: cannot create consumer ${name} on stream ${stream}: ${messageOf(error)}`, {
          cause: error,
        });
      }
    }
  }
  const existing = info.config;
  if (existing.ack_policy !== wanted.ack_policy || existing.deliver_subject) {
    throw new Error(
      `${who}: consumer ${name} on stream ${stream} exists as a ` +
        `${existing.deliver_subject ? "push" : "pull"} consumer with ack policy "${existing.ack_policy}", ` +
        `but this queue needs a pull consumer with ack policy "${wanted.ack_policy}", which JetStream cannot change. ` +
        `Delete it (nats consumer rm ${stream} ${name}) or configure another consumer name.`,
    );
  }
  const changed =
    existing.filter_subject !== wanted.filter_subject ||
    existing.ack_wait !== wanted.ack_wait ||
    existing.max_deliver !== wanted.max_deliver ||
    existing.max_ack_pending !== wanted.max_ack_pending;
  if (!changed) return;
  try {
    await manager.consumers.update(stream, name, {
      filter_subject: wanted.filter_subject,
      ack_wait: wanted.ack_wait,
      max_deliver: wanted.max_deliver,
      max_ack_pending: wanted.max_ack_pending,
    });
  } catch (error) {
    throw new Error(
      `${who}: consumer ${name} on stream ${stream} exists with other settings ` +
        `(filter ${existing.filter_subject}, ack wait ${(existing.ack_wait ?? 0) / 1e6} ms, max deliver ${existing.max_deliver}) ` +
        `and updating it failed: ${messageOf(error)}. ` +
        `Delete it (nats consumer rm ${stream} ${name}) or configure another consumer name.`,
      { cause: error },
    );
  }
}

async function consumerInfo(
  manager: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await manager.consumers.info(stream, name);
  } catch (error) {
    if (isApiError(error, JetStreamApiCodes.ConsumerNotFound)) return undefined;
    throw error;
  }
}
