import type { Agent, IncomingMessage } from "node:http";
import type { MessageAttributes } from "@aat/core";

/** How a REST call authenticates: none (the emulator) or a token from the metadata server (Google Cloud). */
export type RestAuth = "none" | "metadata";

const METADATA_TOKEN_URL =
  "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token";

export interface RestPublisherOptions {
  projectId: string;
  /** Base URL: `http://<emulator host:port>` or Google's `https://pubsub.googleapis.com`. */
  baseUrl: string;
  auth: RestAuth;
  /** For tests: another token endpoint. */
  tokenUrl?: string;
}

/**
 * Publishes through Pub/Sub's REST API (`topics.publish`, `topics.get`): a cold start that only publishes
 * (every deployed function: API, pushed steps, schedules) no longer loads the client library, about
 * 0.4 s of import (docs/benchmarks.md, cold start). On Google Cloud the token comes from the metadata
 * server, cached until a minute before it expires, as the client library's own auth does there.
 * Requests go through node:http(s), not fetch: a process's first fetch compiles undici, ~45 ms of CPU on
 * Node 22 against ~10 for node:http (docs/decisions.md, cold start session 9).
 */
export class RestPublisher {
  private token: { value: string; renewAt: number } | undefined;
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly options: RestPublisherOptions) {}

  /** Publishes one message; resolves to its message id. */
  async publish(
    topic: string,
    data: Buffer,
    attributes: MessageAttributes,
    orderingKey?: string,
  ): Promise<string> {
    const message = {
      data: data.toString("base64"),
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
      ...(orderingKey ? { orderingKey } : {}),
    };
    const answer = (await this.call("POST", `${this.topicPath(topic)}:publish`, { messages: [message] })) as {
      messageIds?: unknown;
    };
    const id = Array.isArray(answer.messageIds) ? answer.messageIds[0] : undefined;
    if (typeof id !== "string")
      throw new Error(`Pub/Sub answered a publish to ${topic} without a message id`);
    return id;
  }

  /** Throws unless the topic exists and may be read (the queue's ping). */
  async getTopic(topic: string): Promise<void> {
    await this.call("GET", this.topicPath(topic));
  }

  private topicPath(topic: string): string {
    return `/v1/projects/${encodeURIComponent(this.options.projectId)}/topics/${encodeURIComponent(topic)}`;
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.options.auth === "metadata") headers.authorization = `Bearer ${await this.accessToken()}`;
    const response = await this.request(`${this.options.baseUrl}${path}`, {
      method,
      headers,
      timeoutMs: 30_000,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.status < 200 || response.status >= 300) {
      let reason = response.text.slice(0, 300);
      try {
        reason = (JSON.parse(response.text) as { error?: { message?: string } }).error?.message ?? reason;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`Pub/Sub REST ${method} ${path} answered ${response.status}: ${reason}`);
    }
    return response.text === "" ? {} : JSON.parse(response.text);
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const response = await this.request(this.options.tokenUrl ?? METADATA_TOKEN_URL, {
      method: "GET",
      headers: { "Metadata-Flavor": "Google" },
      timeoutMs: 10_000,
    }).catch((error: unknown) => {
      throw new Error(
        `Pub/Sub REST publishing needs the metadata server for a token (it runs on Google Cloud only): ${error instanceof Error ? error.message : String(error)}; off Google Cloud publish to the emulator (AAT_PUBSUB_EMULATOR_HOST) or through the client library (no \`rest\` option)`,
        { cause: error },
      );
    });
    if (response.status !== 200) throw new Error(`the metadata server refused a token: ${response.status}`);
    const { access_token, expires_in } = JSON.parse(response.text) as {
      access_token?: unknown;
      expires_in?: unknown;
    };
    if (typeof access_token !== "string")
      throw new Error("the metadata server answered without an access_token");
    const seconds = typeof expires_in === "number" ? expires_in : 300;
    this.token = { value: access_token, renewAt: Date.now() + Math.max(0, seconds - 60) * 1000 };
    return access_token;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** One request over node:http(s) with a keep-alive agent per protocol (loaded on first use). */
  private request(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number },
  ): Promise<{ status: number; text: string }> {
    const target = new URL(url);
    const http = process.getBuiltinModule(
      target.protocol === "https:" ? "node:https" : "node:http",
    ) as typeof import("node:https");
    const agent = this.agents.get(target.protocol) ?? new http.Agent({ keepAlive: true });
    this.agents.set(target.protocol, agent);
    return new Promise((resolve, reject) => {
      const request = http.request(
        target,
        {
          method: init.method,
          headers: {
            ...init.headers,
            ...(init.body === undefined ? {} : { "content-length": Buffer.byteLength(init.body) }),
          },
          agent,
          signal: AbortSignal.timeout(init.timeoutMs),
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
        },
      );
      request.on("error", reject);
      request.end(init.body);
    });
  }
}
