import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export interface CannedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type Route = (request: RecordedRequest) => CannedResponse | undefined;

/**
 * A local HTTP server that answers with recorded (canned) responses and keeps every request it got,
 * standing in for AbuseIPDB, VirusTotal, Slack, Jira and the rest in tests. Unrouted requests get 404.
 */
export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private routes: Route[] = [];
  url = "";

  route(route: Route): this {
    this.routes.push(route);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = body ? JSON.parse(body) : undefined;
        } catch {
          json = undefined;
        }
        const recorded = {
          method: req.method ?? "GET",
          url: req.url ?? "/",
          headers: req.headers,
          body,
          json,
        };
        this.requests.push(recorded);
        const answer = this.routes.map((route) => route(recorded)).find((r) => r !== undefined) ?? {
          status: 404,
          body: { error: "no route" },
        };
        const payload = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {});
        res.writeHead(answer.status ?? 200, {
          "content-type": typeof answer.body === "string" ? "text/plain" : "application/json",
          ...answer.headers,
        });
        res.end(payload);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
