import { randomUUID } from "node:crypto";
import type { ServiceBusMessage, ServiceBusReceivedMessage } from "@azure/service-bus";
import type { ClientPort, ReceiverPort, SenderPort } from "./index.js";

/** One SDK call the adapter made, as the fake recorded it. */
export type Call =
  | { op: "send"; queue: string; message: ServiceBusMessage }
  | { op: "dropped-duplicate"; queue: string; messageId: string }
  | { op: "complete" | "abandon" | "renewMessageLock"; messageId: string }
  | { op: "deadLetter"; messageId: string; options: Record<string, unknown> }
  | { op: "acceptNextSession"; sessionId: string | undefined };

interface Entry {
  seq: number;
  messageId: string;
  body: unknown;
  properties: Record<string, number | boolean | string | Date | null>;
  sessionId?: string;
  enqueuedAt: number;
  visibleAt: number;
  lockToken?: string;
  lockedUntil: number;
  deliveryCount: number;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
}

class LockLost extends Error {
  readonly code = "MessageLockLost";
}

/**
 * A Service Bus namespace in memory, implementing the SDK sender/receiver/client calls the adapter uses
 * with the broker's documented semantics: peek-lock with a LockDuration, deliveryCount per lock,
 * MaxDeliveryCount dead-lettering (reason MaxDeliveryCountExceeded), duplicate detection on messageId
 * inside a window, scheduledEnqueueTimeUtc, sessions (one receiver holds a session), a dead-letter
 * sub-queue. Every call is recorded in `calls`. It stands in for the real broker because no Service Bus
 * emulator runs here (see docs/testing.md).
 */
export class FakeServiceBus implements ClientPort {
  readonly calls: Call[] = [];
  private readonly queues = new Map<string, { live: Entry[]; dead: Entry[]; seen: Map<string, number> }>();
  private readonly lockedSessions = new Set<string>();
  private seq = 0;

  constructor(
    readonly settings: {
      lockDurationMs: number;
      maxDeliveryCount: number;
      duplicateWindowMs?: number;
      sessions?: boolean;
    },
  ) {}

  private queue(name: string) {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = { live: [], dead: [], seen: new Map() };
      this.queues.set(name, queue);
    }
    return queue;
  }

  createSender(queueName: string): SenderPort {
    const queue = this.queue(queueName);
    return {
      sendMessages: async (input) => {
        const messages = (Array.isArray(input) ? input : [input]) as ServiceBusMessage[];
        for (const message of messages) {
          this.calls.push({ op: "send", queue: queueName, message });
          if (this.settings.sessions && message.sessionId === undefined) {
            throw Object.assign(
              new Error("The SessionId was not set on a message, and it cannot be sent to the entity"),
              {
                code: "InvalidOperation",
              },
            );
          }
          const id = String(message.messageId ?? randomUUID());
          const now = Date.now();
          const seenAt = queue.seen.get(id);
          if (seenAt !== undefined && now - seenAt < (this.settings.duplicateWindowMs ?? 600_000)) {
            this.calls.push({ op: "dropped-duplicate", queue: queueName, messageId: id });
            continue;
          }
          queue.seen.set(id, now);
          queue.live.push({
            seq: ++this.seq,
            messageId: id,
            body: structuredClone(message.body),
            properties: { ...(message.applicationProperties ?? {}) },
            ...(message.sessionId === undefined ? {} : { sessionId: message.sessionId }),
            enqueuedAt: now,
            visibleAt: message.scheduledEnqueueTimeUtc?.getTime() ?? now,
            lockedUntil: 0,
            deliveryCount: 0,
          });
        }
      },
      close: async () => undefined,
    };
  }

  createReceiver(queueName: string, options: { subQueueType?: "deadLetter" } = {}): ReceiverPort {
    return this.receiver(queueName, options.subQueueType === "deadLetter");
  }

  async acceptNextSession(queueName: string): Promise<ReceiverPort> {
    const queue = this.queue(queueName);
    const now = Date.now();
    const next = queue.live.find(
      (entry) =>
        entry.sessionId !== undefined && entry.visibleAt <= now && !this.lockedSessions.has(entry.sessionId),
    );
    this.calls.push({ op: "acceptNextSession", sessionId: next?.sessionId });
    if (!next?.sessionId) throw Object.assign(new Error("no session available"), { code: "ServiceTimeout" });
    const sessionId = next.sessionId;
    this.lockedSessions.add(sessionId);
    const receiver = this.receiver(queueName, false, sessionId);
    return {
      ...receiver,
      close: async () => {
        this.lockedSessions.delete(sessionId);
      },
    };
  }

  async close(): Promise<void> {}

  private receiver(queueName: string, dead: boolean, sessionId?: string): ReceiverPort {
    const queue = this.queue(queueName);
    const entries = () => (dead ? queue.dead : queue.live);
    const held = (message: ServiceBusReceivedMessage): Entry => {
      const entry = entries().find((one) => one.lockToken === message.lockToken);
      if (!entry || entry.lockedUntil <= Date.now()) {
        throw new LockLost(`the lock on message ${message.messageId} expired or the message was settled`);
      }
      return entry;
    };
    const available = (now: number) =>
      entries().filter(
        (entry) =>
          entry.visibleAt <= now &&
          entry.lockedUntil <= now &&
          (dead || !this.settings.sessions || entry.sessionId === sessionId),
      );
    const remove = (entry: Entry) => {
      const list = entries();
      list.splice(list.indexOf(entry), 1);
    };
    return {
      receiveMessages: async (max, options = {}) => {
        const deadline = Date.now() + (options.maxWaitTimeInMs ?? 60_000);
        for (;;) {
          const now = Date.now();
          const out: ServiceBusReceivedMessage[] = [];
          for (const entry of available(now)) {
            if (out.length >= max) break;
            if (!dead && entry.deliveryCount >= this.settings.maxDeliveryCount) {
              remove(entry);
              entry.deadLetterReason = "MaxDeliveryCountExceeded";
              entry.deadLetterErrorDescription = `Message could not be consumed after ${entry.deliveryCount} delivery attempts.`;
              entry.lockedUntil = 0;
              queue.dead.push(entry);
              continue;
            }
            entry.deliveryCount++;
            entry.lockToken = randomUUID();
            entry.lockedUntil = now + this.settings.lockDurationMs;
            out.push(toReceived(entry));
          }
          if (out.length > 0 || Date.now() >= deadline) return out;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      peekMessages: async (max) => entries().slice(0, max).map(toReceived),
      completeMessage: async (message) => {
        const entry = held(message);
        this.calls.push({ op: "complete", messageId: entry.messageId });
        remove(entry);
      },
      abandonMessage: async (message) => {
        const entry = held(message);
        this.calls.push({ op: "abandon", messageId: entry.messageId });
        entry.lockedUntil = 0;
      },
      deadLetterMessage: async (message, options) => {
        const entry = held(message);
        const { deadLetterReason, deadLetterErrorDescription, ...modify } = (options ?? {}) as Record<
          string,
          unknown
        >;
        this.calls.push({ op: "deadLetter", messageId: entry.messageId, options: { ...(options ?? {}) } });
        remove(entry);
        entry.deadLetterReason = String(deadLetterReason ?? "");
        entry.deadLetterErrorDescription = String(deadLetterErrorDescription ?? "");
        Object.assign(entry.properties, modify);
        entry.lockedUntil = 0;
        queue.dead.push(entry);
      },
      renewMessageLock: async (message) => {
        const entry = held(message);
        this.calls.push({ op: "renewMessageLock", messageId: entry.messageId });
        entry.lockedUntil = Date.now() + this.settings.lockDurationMs;
        return new Date(entry.lockedUntil);
      },
      close: async () => undefined,
    };
  }
}

function toReceived(entry: Entry): ServiceBusReceivedMessage {
  return {
    messageId: entry.messageId,
    body: structuredClone(entry.body),
    applicationProperties: { ...entry.properties },
    deliveryCount: entry.deliveryCount,
    enqueuedTimeUtc: new Date(entry.enqueuedAt),
    ...(entry.lockToken === undefined ? {} : { lockToken: entry.lockToken }),
    ...(entry.sessionId === undefined ? {} : { sessionId: entry.sessionId }),
    ...(entry.deadLetterReason === undefined ? {} : { deadLetterReason: entry.deadLetterReason }),
    ...(entry.deadLetterErrorDescription === undefined
      ? {}
      : { deadLetterErrorDescription: entry.deadLetterErrorDescription }),
    state: "active",
  } as unknown as ServiceBusReceivedMessage;
}
