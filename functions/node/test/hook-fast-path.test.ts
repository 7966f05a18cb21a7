/**
 * POST /v1/hooks/:triggerId is answered by a plain node:http handler ahead of Hono (hook-fast-path.ts).
 * The same deliveries sent to a runtime with it and to one without it (everything through Hono) must
 * get the same answers — status, problem+json body, the headers a client reads — and leave the same
 * audit entries, for a success, a duplicate, a reused delivery id, a bad signature, an unknown trigger,
 * a wrong content type, bad JSON, a JSON array and an oversized body.
 */

import { mkdir, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { aatConfigSchema, type KeyValue, signWebhook, type Tool } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { capturingLogger, tempDir } from "./support.js";

const SECRET = "fast-path-secret-0123456789abcdef";
const PLAN = `
id: fast.hook
workflow: automation
title: Started by a signed webhook
triggers:
  - type: webhook
    id: fast-hook
    secret: fast_hook
steps:
  - id: handle
    type: tool
    tool: fast.handle
    with: { n: "{% input.n %}" }
`;
const handle: Tool<{ n: number }, { n: number }> = {
  name: "fast.handle",
  description: "Answers at once",
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  run: async (input) => input,
};

interface Server {
  runtime: NodeRuntime;
  kv: KeyValue;
}

let dir: string;
const servers: Server[] = [];

async function start(hookFastPath: boolean): Promise<Server> {
  const dataDir = join(dir, hookFastPath ? "fast" : "hono");
  const plans = join(dataDir, "plans");
  await mkdir(plans, { recursive: true });
  await writeFile(join(plans, "hook.yaml"), PLAN);
  let kv: KeyValue | undefined;
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { port: 0, role: "api", shutdownGraceMs: 500, bodyLimitBytes: 2048 },
      auth: { mode: "none", allowNone: true },
      plans: { directories: [plans], watch: false },
      telemetry: { logLevel: "warn" },
    }),
    role: "api",
    tools: [handle],
    logger: capturingLogger().logger,
    print: () => {},
    env: { AAT_SECRET_FAST_HOOK: SECRET },
    hookFastPath,
    decorateStores: (stores) => {
      kv = stores.kv;
      return stores;
    },
  });
  return { runtime, kv: kv! };
}

beforeAll(async () => {
  dir = await tempDir("hook-fast-path");
  servers.push(await start(true), await start(false));
});
afterAll(async () => {
  for (const server of servers) await server.runtime.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** A raw HTTP/1.1 request (fetch would fix up Content-Length and friends). */
function send(url: string, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const req = httpRequest(target, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const picked: Record<string, string | undefined> = {};
        for (const name of ["content-type", "x-request-id", "www-authenticate", "content-length"]) {
          const value = res.headers[name];
          picked[name] = Array.isArray(value) ? value.join(", ") : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: picked, body: Buffer.concat(chunks).toString() });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

interface Delivery {
  name: string;
  path?: string;
  body: string;
  headers?: Record<string, string>;
  signed?: boolean;
}

function headersOf(delivery: Delivery, requestId: string): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(delivery.body)),
    "x-request-id": requestId,
    ...delivery.headers,
  };
  if (delivery.signed !== false) {
    headers["x-aat-signature"] = signWebhook(SECRET, delivery.body, Date.now() / 1000);
  }
  return headers;
}

const DELIVERIES: Delivery[] = [
  { name: "success", body: JSON.stringify({ n: 1 }) },
  { name: "duplicate", body: JSON.stringify({ n: 1 }) },
  { name: "delivery id", body: JSON.stringify({ n: 2 }), headers: { "x-aat-delivery": "d-1" } },
  { name: "reused delivery id", body: JSON.stringify({ n: 3 }), headers: { "x-aat-delivery": "d-1" } },
  {
    name: "bad signature",
    body: JSON.stringify({ n: 4 }),
    headers: { "x-aat-signature": "t=1,v1=00" },
    signed: false,
  },
  { name: "unsigned", body: JSON.stringify({ n: 5 }), signed: false },
  { name: "unknown trigger", path: "/v1/hooks/no-such-hook", body: JSON.stringify({ n: 6 }) },
  { name: "bad trigger id", path: "/v1/hooks/bad%20id", body: JSON.stringify({ n: 7 }) },
  {
    name: "wrong content type",
    body: "n=8",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  },
  { name: "no content type", body: JSON.stringify({ n: 9 }), headers: { "content-type": "" } },
  { name: "bad JSON", body: "{not json" },
  { name: "JSON array", body: "[1,2]" },
  { name: "input not matching", body: JSON.stringify({ n: "ten" }) },
  { name: "oversized body", body: JSON.stringify({ n: 11, pad: "x".repeat(4096) }) },
];

describe("webhook deliveries through the node:http fast path and through Hono", () => {
  it("answer alike and leave the same audit entries", async () => {
    const [fast, hono] = servers as [Server, Server];
    for (const [i, delivery] of DELIVERIES.entries()) {
      const path = delivery.path ?? "/v1/hooks/fast-hook";
      const requestId = `req-${i}`;
      const headers = headersOf(delivery, requestId);
      if (headers["content-type"] === "") delete headers["content-type"];
      const [a, b] = [
        await send(fast.runtime.url!, path, headers, delivery.body),
        await send(hono.runtime.url!, path, headers, delivery.body),
      ];
      expect({ name: delivery.name, ...a }).toEqual({ name: delivery.name, ...b });
      expect(a.headers["x-request-id"]).toBe(requestId);
    }
    // Answers cover every case asked for, not only one status.
    const statuses = new Set<number>();
    for (const [i, delivery] of DELIVERIES.entries()) {
      const headers = headersOf(delivery, `again-${i}`);
      if (headers["content-type"] === "") delete headers["content-type"];
      statuses.add(
        (await send(fast.runtime.url!, delivery.path ?? "/v1/hooks/fast-hook", headers, delivery.body))
          .status,
      );
    }
    expect([...statuses].sort()).toEqual([202, 400, 401, 404, 409, 413, 415, 422]);

    const audit = async (server: Server) =>
      (await server.kv.list<Record<string, unknown>>("audit/", { limit: 1000 })).entries
        .map((entry) => entry.value)
        .filter((entry) => String(entry.requestId).startsWith("req-"))
        .map(({ id: _id, at: _at, ...rest }) => rest)
        .sort((x, y) => String(x.requestId).localeCompare(String(y.requestId)));
    const [fastAudit, honoAudit] = [await audit(fast), await audit(hono)];
    expect(fastAudit.length).toBeGreaterThan(5);
    expect(fastAudit).toEqual(honoAudit);
  });

  it("leaves chunked bodies, other methods and encoded paths to Hono", async () => {
    const [fast] = servers as [Server];
    const body = JSON.stringify({ n: 20 });
    const headers = {
      "content-type": "application/json",
      "transfer-encoding": "chunked",
      "x-aat-signature": signWebhook(SECRET, body, Date.now() / 1000),
    };
    const chunked = await send(fast.runtime.url!, "/v1/hooks/fast-hook", headers, body);
    expect(chunked.status).toBe(202);
    const dotted = await send(fast.runtime.url!, "/v1/hooks/../hooks/fast-hook", { ...headers }, body);
    expect(dotted.status).toBe(202);
  });
});
