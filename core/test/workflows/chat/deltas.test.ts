import { describe, expect, it } from "vitest";
import type { Broadcast } from "../../../src/ports/broadcast.js";
import { type ChatDelta, ChatDeltaHub } from "../../../src/workflows/chat/deltas.js";

/** An in-memory Broadcast shared by several hubs, as one Redis or NATS server would be. */
function sharedBus() {
  const channels = new Map<string, Set<(message: string) => void>>();
  let failSubscribe = false;
  const bus = (): Broadcast => ({
    publish: (channel, message) => {
      for (const listener of channels.get(channel) ?? []) listener(message);
    },
    subscribe: async (channel, listener) => {
      if (failSubscribe) throw new Error("the server is away");
      const set = channels.get(channel) ?? new Set();
      channels.set(channel, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    close: async () => undefined,
  });
  return { bus, channels, failNext: () => (failSubscribe = true) };
}

const text = (t: string): ChatDelta => ({ type: "text", text: t });

describe("ChatDeltaHub with a relay", () => {
  it("delivers a delta once to listeners here and once to listeners in another process", async () => {
    const { bus } = sharedBus();
    const worker = new ChatDeltaHub(bus());
    const api = new ChatDeltaHub(bus());
    const here: ChatDelta[] = [];
    const there: ChatDelta[] = [];
    await worker.subscribe("run-1", (delta) => here.push(delta));
    await api.subscribe("run-1", (delta) => there.push(delta));
    worker.publish("run-1", text("a"));
    worker.publish("run-2", text("other run"));
    expect(here).toEqual([text("a")]);
    expect(there).toEqual([text("a")]);
  });

  it("drops the relay subscription with the last listener, and ignores what is not a delta", async () => {
    const { bus, channels } = sharedBus();
    const worker = new ChatDeltaHub(bus());
    const api = new ChatDeltaHub(bus());
    const got: ChatDelta[] = [];
    const first = await api.subscribe("run-1", (delta) => got.push(delta));
    const second = await api.subscribe("run-1", (delta) => got.push(delta));
    expect(channels.get("chat-deltas/run-1")?.size).toBe(1);
    bus().publish("chat-deltas/run-1", "not json");
    bus().publish("chat-deltas/run-1", JSON.stringify({ origin: "x", delta: { no: "type" } }));
    first();
    worker.publish("run-1", text("b"));
    expect(got).toEqual([text("b")]);
    second();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(channels.get("chat-deltas/run-1")?.size).toBe(0);
  });

  it("keeps this process's deltas when the relay cannot subscribe", async () => {
    const { bus, failNext } = sharedBus();
    failNext();
    const hub = new ChatDeltaHub(bus());
    const got: ChatDelta[] = [];
    await hub.subscribe("run-1", (delta) => got.push(delta));
    hub.publish("run-1", text("local"));
    expect(got).toEqual([text("local")]);
  });
});
