import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodePushDelivery, PushDecodeError } from "../src/index.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));

describe("decodePushDelivery", () => {
  it("reads a messagePublished CloudEvent into a queue message, without aat's own attributes", () => {
    const decoded = decodePushDelivery(fixture("message-published-step.json"));
    expect(decoded.message).toEqual({
      id: "2070443601311541",
      body: { kind: "execute", runId: "run-1", key: "k", stepId: "fetch", attempt: 1 },
      attributes: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      dedupeId: "run-1/fetch/1",
      deliveryCount: 3,
      publishedAt: Date.parse("2021-02-26T19:13:55.749Z"),
      receipt: "",
    });
    expect(decoded.subscription).toBe("projects/aat-project/subscriptions/aat-steps-push");
    expect(decoded.orderingKey).toBe("run-1");
    expect(decoded.notBefore).toBe(1614367000000);
  });

  it("reads the raw push body too, counting a first delivery when there is no deliveryAttempt", () => {
    const event = fixture("message-published-step.json") as { data: Record<string, unknown> };
    const { deliveryAttempt: _, ...push } = event.data;
    const decoded = decodePushDelivery(push);
    expect(decoded.message.deliveryCount).toBe(1);
    expect(decoded.message.id).toBe("2070443601311541");
  });

  it("refuses Google's sample push body because its data is not JSON, naming the message", () => {
    expect(() => decodePushDelivery(fixture("push-body-google-sample.json"))).toThrow(
      /Pub\/Sub message 2070443601311540: data is not JSON/,
    );
  });

  it("refuses other CloudEvent types and malformed deliveries with the field at fault", () => {
    const event = fixture("message-published-step.json") as Record<string, unknown>;
    expect(() => decodePushDelivery({ ...event, type: "google.cloud.storage.object.v1.finalized" })).toThrow(
      /type must be google\.cloud\.pubsub\.topic\.v1\.messagePublished/,
    );
    expect(() => decodePushDelivery({ subscription: "projects/p/subscriptions/s" })).toThrow(PushDecodeError);
    expect(() => decodePushDelivery({ message: { data: "%%%", messageId: "1" }, subscription: "s" })).toThrow(
      /message\.data must be base64/,
    );
    expect(() => decodePushDelivery(null)).toThrow(/not a Pub\/Sub push body/);
  });
});
