import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestPublisher } from "../src/rest-publisher.js";

/** Stands in for the metadata server and Pub/Sub's REST endpoint, recording what it was sent. */
const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }> = [];
let tokenCalls = 0;
const server = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    seen.push({ method: request.method!, url: request.url!, headers: request.headers, body });
    if (request.url === "/token") {
      tokenCalls++;
      if (request.headers["metadata-flavor"] !== "Google") return response.writeHead(403).end();
      return response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ access_token: `token-${tokenCalls}`, expires_in: 3599, token_type: "Bearer" }));
    }
    if (request.url?.endsWith("/topics/refused:publish"))
      return response
        .writeHead(403)
        .end(JSON.stringify({ error: { code: 403, message: "permission denied" } }));
    if (request.url?.endsWith(":publish"))
      return response.writeHead(200).end(JSON.stringify({ messageIds: [String(seen.length)] }));
    return response.writeHead(404).end();
  });
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

describe("RestPublisher", () => {
  it("publishes with a metadata-server token, fetched once and reused", async () => {
    const publisher = new RestPublisher({
      projectId: "aat-proj",
      baseUrl: base,
      auth: "metadata",
      tokenUrl: `${base}/token`,
    });
    const first = await publisher.publish(
      "steps",
      Buffer.from('{"n":1}'),
      { traceparent: "00-a-b-01" },
      "run-1",
    );
    await publisher.publish("steps", Buffer.from("{}"), {});
    expect(first).toMatch(/^\d+$/);
    expect(tokenCalls).toBe(1);
    const publishes = seen.filter((request) => request.url.endsWith(":publish"));
    expect(publishes.map((request) => [request.method, request.url, request.headers.authorization])).toEqual([
      ["POST", "/v1/projects/aat-proj/topics/steps:publish", "Bearer token-1"],
      ["POST", "/v1/projects/aat-proj/topics/steps:publish", "Bearer token-1"],
    ]);
    expect(JSON.parse(publishes[0]!.body)).toEqual({
      messages: [
        {
          data: Buffer.from('{"n":1}').toString("base64"),
          attributes: { traceparent: "00-a-b-01" },
          orderingKey: "run-1",
        },
      ],
    });
  });

  it("says what Pub/Sub refused, and that the metadata server exists only on Google Cloud", async () => {
    const publisher = new RestPublisher({ projectId: "aat-proj", baseUrl: base, auth: "none" });
    await expect(publisher.publish("refused", Buffer.from("{}"), {})).rejects.toThrow(
      /Pub\/Sub REST POST \/v1\/projects\/aat-proj\/topics\/refused:publish answered 403: permission denied/,
    );
    const offCloud = new RestPublisher({
      projectId: "aat-proj",
      baseUrl: base,
      auth: "metadata",
      tokenUrl: "http://127.0.0.1:1/token",
    });
    await expect(offCloud.publish("steps", Buffer.from("{}"), {})).rejects.toThrow(
      /needs the metadata server for a token \(it runs on Google Cloud only\)/,
    );
  });
});
