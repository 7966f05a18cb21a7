import { afterEach, describe, expect, it } from "vitest";
import type { Broadcast } from "../ports/broadcast.js";
import { eventually, sleep, uniqueSuffix } from "./contract-helpers.js";

/**
 * One instance on the backend with its own connections, as one replica holds it, in `namespace` (the key
 * or subject prefix that keeps deployments sharing a server apart).
 */
export type BroadcastFactory = (namespace: string) => Promise<Broadcast>;

/**
 * Declares the Broadcast contract suite: what one instance publishes reaches the other instance's
 * listeners (and its own), per channel, in order, until they unsubscribe; channel names may hold the
 * characters run ids use; instances in other namespaces hear nothing.
 */
export function broadcastContract(name: string, create: BroadcastFactory): void {
  describe(`Broadcast contract: ${name}`, () => {
    const opened: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const close of opened.splice(0).reverse()) await close();
    });
    const open = async () => {
      const namespace = `contract-${uniqueSuffix()}`;
      const a = await create(namespace);
      const b = await create(namespace);
      opened.push(async () => {
        await a.close();
        await b.close();
      });
      return { a, b };
    };
    const channel = (label: string) => `contract.${label}/${uniqueSuffix()}~turn~1 *>`;

    it("delivers what one instance publishes to the other's listeners, in order", async () => {
      const { a, b } = await open();
      const name = channel("order");
      const received: string[] = [];
      await b.subscribe(name, (message) => received.push(message));
      for (let i = 0; i < 20; i++) a.publish(name, `m${i}`);
      await eventually("all 20 messages", async () => (received.length >= 20 ? true : undefined), 10_000);
      expect(received).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    });

    it("reaches listeners in the publishing instance too, and every listener of a channel", async () => {
      const { a, b } = await open();
      const name = channel("fanout");
      const here: string[] = [];
      const there: string[] = [];
      const second: string[] = [];
      await a.subscribe(name, (message) => here.push(message));
      await b.subscribe(name, (message) => there.push(message));
      await b.subscribe(name, (message) => second.push(message));
      a.publish(name, '{"type":"text","text":"héllo ✓"}');
      await eventually(
        "three deliveries",
        async () => (here.length && there.length && second.length ? true : undefined),
        10_000,
      );
      expect([here, there, second]).toEqual([
        ['{"type":"text","text":"héllo ✓"}'],
        ['{"type":"text","text":"héllo ✓"}'],
        ['{"type":"text","text":"héllo ✓"}'],
      ]);
    });

    it("keeps channels apart and stops delivering after unsubscribe", async () => {
      const { a, b } = await open();
      const first = channel("first");
      const other = channel("other");
      const received: string[] = [];
      const stop = await b.subscribe(first, (message) => received.push(message));
      const kept: string[] = [];
      await b.subscribe(other, (message) => kept.push(message));
      a.publish(other, "for the other channel");
      a.publish(first, "before");
      await eventually(
        "the first message",
        async () => (received.length && kept.length ? true : undefined),
        10_000,
      );
      stop();
      stop(); // twice is harmless
      // The backend may take a moment to drop the subscription; what is published after it is gone.
      await sleep(200);
      a.publish(first, "after");
      a.publish(other, "still here");
      await eventually(
        "the other channel's second message",
        async () => (kept.length >= 2 ? true : undefined),
        10_000,
      );
      await sleep(100);
      expect(received).toEqual(["before"]);
      expect(kept).toEqual(["for the other channel", "still here"]);
    });

    it("keeps namespaces apart", async () => {
      const { a } = await open();
      const elsewhere = await create(`contract-${uniqueSuffix()}`);
      opened.push(() => elsewhere.close());
      const name = channel("apart");
      const heard: string[] = [];
      await elsewhere.subscribe(name, (message) => heard.push(message));
      a.publish(name, "not for another namespace");
      await sleep(200);
      expect(heard).toEqual([]);
    });

    it("publishes with nobody listening, and after close, without throwing", async () => {
      const { a } = await open();
      expect(() => a.publish(channel("nobody"), "lost, by design")).not.toThrow();
      await a.close();
      expect(() => a.publish(channel("closed"), "after close")).not.toThrow();
    });
  });
}
