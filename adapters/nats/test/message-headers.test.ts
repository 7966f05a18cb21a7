import { describe, expect, it } from "vitest";
import { attributesToHeaders, headersToAttributes, NATS_MSG_ID } from "../src/message-headers.js";

describe("attributes as NATS headers", () => {
  it("round-trips names and values, Unicode values included", () => {
    const attributes = {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      Tenant: "t1",
      note: "ünï 🌍",
      empty: "",
    };
    const headers = attributesToHeaders(attributes, "test");
    expect(headersToAttributes(headers)).toEqual(attributes);
  });

  it("hides the reserved Nats- and Aat- headers from attributes", () => {
    const headers = attributesToHeaders({ tenant: "t1" }, "test");
    headers.set(NATS_MSG_ID, "run-1/step/1");
    headers.set("Aat-Message-Id", "12");
    expect(headersToAttributes(headers)).toEqual({ tenant: "t1" });
  });

  it("refuses attributes a NATS header cannot carry unchanged, naming the attribute", () => {
    expect(() => attributesToHeaders({ "nats-expected-stream": "x" }, "publish")).toThrow(
      /publish: attribute name "nats-expected-stream" is reserved/,
    );
    expect(() => attributesToHeaders({ "Aat-Dead-Reason": "x" }, "publish")).toThrow(/reserved/);
    expect(() => attributesToHeaders({ "has space": "x" }, "publish")).toThrow(
      /attribute name "has space" cannot be a NATS header name/,
    );
    expect(() => attributesToHeaders({ "a:b": "x" }, "publish")).toThrow(/cannot be a NATS header name/);
    expect(() => attributesToHeaders({ note: "two\nlines" }, "publish")).toThrow(
      /attribute "note" has a value NATS headers cannot carry unchanged/,
    );
    expect(() => attributesToHeaders({ note: " padded" }, "publish")).toThrow(/cannot carry unchanged/);
    expect(() => attributesToHeaders({ count: 3 as unknown as string }, "publish")).toThrow(
      /attribute "count" must be a string, got number/,
    );
  });
});
