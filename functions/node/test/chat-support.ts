import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { startNodeRuntime } from "@aat/functions-node";
import { capturingLogger, SHIPPED_PLANS, tempDir } from "./support.js";

/** One server-sent event as the client received it, in arrival order. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads an event stream to its end, frame by frame as the bytes arrive. */
export async function readSse(response: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: ?(.*)$/m.exec(frame)?.[1];
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.replace(/^data: ?/, ""))
        .join("\n");
      if (event) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      end = buffer.indexOf("\n\n");
    }
  }
  return events;
}

/** The `models` setting that makes the scripted OpenAI-compatible server at `baseUrl` the default model. */
export function scriptedChatModels(baseUrl: string) {
  return {
    default: "default",
    providers: {
      default: {
        provider: "openai-compatible",
        model: "scripted-chat",
        baseUrl,
        apiKey: "sk-chat-test-key-123456",
      },
    },
  };
}

export async function startChatRuntime(models?: Record<string, unknown>, chat?: Record<string, unknown>) {
  const dataDir = await tempDir("chat");
  const config = aatConfigSchema.parse({
    dataDir,
    server: { port: 0 },
    plans: { directories: [join(SHIPPED_PLANS, "chat"), join(SHIPPED_PLANS, "automation")], watch: false },
    telemetry: { logLevel: "warn" },
    ...(models ? { models } : {}),
    ...(chat ? { chat } : {}),
  });
  const runtime = await startNodeRuntime({
    config,
    logger: capturingLogger().logger,
    print: () => undefined,
    tuning: { pollWaitMs: 50 },
  });
  const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const call = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
    fetch(`${runtime.url}${path}`, {
      method,
      headers: { ...headers, ...extra },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  return { runtime, dataDir, call };
}

export type ChatCall = Awaited<ReturnType<typeof startChatRuntime>>["call"];

/** Reads the session until its last message is the assistant's reply (the run finishes after the approval). */
export async function eventuallyReply(call: ChatCall, sessionId: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const detail = (await (await call("GET", `/v1/chat/sessions/${sessionId}`)).json()) as {
      messages: Array<{ role: string; text: string }>;
    };
    const last = detail.messages.at(-1);
    if (last?.role === "assistant") return last.text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the reply was never stored");
}
