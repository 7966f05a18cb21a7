import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { LlmFixture, LlmFixtureSource, RecordedLlmRequest } from "./llm-fixtures.js";
import { type LlmRoute, renderReply } from "./llm-render.js";

const CREDENTIAL_HEADERS = new Set(["authorization", "x-api-key", "api-key", "x-goog-api-key"]);

/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) that provider SDKs talk to in tests. It serves
 * OpenAI chat completions (`…/chat/completions`, JSON or SSE chunks) and Anthropic messages
 * (`…/messages`), answering each request with the next queued fixture, and records every request
 * with credentials redacted. Tests only.
 */
export class ScriptedLlmServer {
  /** Every request received, in order, credentials redacted. */
  readonly requests: RecordedLlmRequest[] = [];
  private readonly fixtures: LlmFixtureSource[] = [];
  private readonly credentialHashes: Array<string[]> = [];

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:<port>` */
    readonly url: string,
  ) {}

  static async start(fixtures: LlmFixtureSource[] = []): Promise<ScriptedLlmServer> {
    let instance: ScriptedLlmServer | undefined;
    const server = createServer((req, res) => {
      void instance?.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    instance = new ScriptedLlmServer(server, `http://127.0.0.1:${port}`);
    instance.enqueue(...fixtures);
    return instance;
  }

  /** Base URL for OpenAI-style clients (`…/v1`). */
  get openAiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  /** Base URL for the Anthropic client (`…/v1`, it appends `/messages`). */
  get anthropicBaseUrl(): string {
    return `${this.url}/v1`;
  }

  /** Queue answers; each request takes the next one (a function fixture decides from the request). */
  enqueue(...fixtures: LlmFixtureSource[]): this {
    this.fixtures.push(...fixtures);
    return this;
  }

  /** Fixtures not used yet. */
  get pending(): number {
    return this.fixtures.length;
  }

  /** Whether request `index` carried exactly `secret` in one of its credential headers (which are recorded redacted). */
  usedCredential(index: number, secret: string): boolean {
    const hash = sha256(secret);
    return (this.credentialHashes[index] ?? []).some(
      (seen) => seen === hash || seen === sha256(`Bearer ${secret}`),
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const { headers, hashes } = recordHeaders(req);
    const request: RecordedLlmRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      headers,
      body: parseBody(raw),
    };
    const index = this.requests.push(request) - 1;
    this.credentialHashes[index] = hashes;

    const route = routeOf(request);
    if (!route) {
      sendJson(res, 404, {
        error: {
          message: `scripted LLM server: no route for ${request.method} ${request.path}; it serves POST …/chat/completions and POST …/messages`,
        },
      });
      return;
    }
    const source = this.fixtures.shift();
    if (source === undefined) {
      sendJson(res, 500, {
        error: {
          message: `scripted LLM server: no fixture left for request ${index + 1} (${request.method} ${request.path}); enqueue one more`,
          type: "scripted_server_error",
        },
      });
      return;
    }
    const fixture: LlmFixture = typeof source === "function" ? source(request) : source;
    if (fixture.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, fixture.delayMs));
      if (res.destroyed || req.socket.destroyed) return;
    }
    if (fixture.kind === "error") {
      sendJson(res, fixture.status, fixture.body, fixture.headers);
      return;
    }
    if (fixture.kind === "raw") {
      res.writeHead(fixture.status, { "content-type": "application/json", ...fixture.headers });
      res.end(fixture.body);
      return;
    }
    const rendered = renderReply(route, fixture, request, index + 1);
    if ("json" in rendered) {
      sendJson(res, 200, rendered.json);
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    for (const { event, data } of rendered.events) {
      res.write(`${event ? `event: ${event}\n` : ""}data: ${data}\n\n`);
    }
    res.end();
  }
}

function routeOf(request: RecordedLlmRequest): LlmRoute | undefined {
  if (request.method !== "POST") return undefined;
  const path = request.path.split("?")[0] ?? "";
  if (path.endsWith("/chat/completions")) return "openai-chat";
  if (path.endsWith("/messages")) return "anthropic-messages";
  return undefined;
}

function recordHeaders(req: IncomingMessage): { headers: Record<string, string>; hashes: string[] } {
  const headers: Record<string, string> = {};
  const hashes: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    if (CREDENTIAL_HEADERS.has(name)) {
      hashes.push(sha256(text));
      const scheme = /^(Bearer|Basic|AWS4-HMAC-SHA256)\s/i.exec(text)?.[1];
      headers[name] = scheme ? `${scheme} <redacted>` : "<redacted>";
    } else {
      headers[name] = text;
    }
  }
  return { headers, hashes };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function parseBody(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
