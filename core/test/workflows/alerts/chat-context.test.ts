import { describe, expect, it } from "vitest";
import { alertContextResolver } from "../../../src/workflows/alerts/chat-context.js";
import type { AlertRecord } from "../../../src/workflows/alerts/store.js";
import { ChatContextRegistry } from "../../../src/workflows/chat/context.js";

const record = {
  alert: {
    title: "Outbound connection to a known C2",
    severity: "High",
    desc: "beacon every 60 s",
    metadata: { product: { name: "Example EDR" } },
    observables: [{ type: "ip", value: "198.51.100.23" }],
  },
  status: "resolved",
  resolution: { kind: "true_positive", comment: "score 90" },
  runs: [],
  related: [],
  notes: [{ id: "n1", at: 0, by: "alice", text: "blocked at the edge" }],
  timeline: [{ at: 0, by: "api", type: "received" }],
  enrichment: { "198.51.100.23": { verdict: "malicious", score: 90 } },
} as unknown as AlertRecord;

describe("the alert chat context kind", () => {
  it("renders the alert, its enrichment, notes and timeline; a missing alert says so", async () => {
    const registry = new ChatContextRegistry([
      alertContextResolver({ get: async (id) => (id === "a1" ? record : undefined) }),
    ]);
    const text = await registry.render([
      { kind: "alert", id: "a1" },
      { kind: "alert", id: "gone" },
    ]);
    expect(text).toContain("### alert a1: Outbound connection to a known C2 (resolved)");
    expect(text).toContain("resolution: true_positive (score 90)");
    expect(text).toContain("ip 198.51.100.23");
    expect(text).toContain('"verdict":"malicious"');
    expect(text).toContain("note by alice: blocked at the edge");
    expect(text).toContain("received");
    expect(text).toContain("### alert gone");
  });
});
