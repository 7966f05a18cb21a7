import type { AgentMessage, AgentModel, Tool } from "@aat/core";
import { z } from "zod";

/** One request a provider SDK built, as it would have gone over the wire. */
export interface CapturedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * A fetch that records what the provider SDK sends and answers from a fixture: for providers whose
 * endpoints (Bedrock, Vertex) have no local peer, so the request they build is checked instead.
 * `forwardTo` sends the request on to a real server (the scripted one) after recording it.
 */
export function recordingFetch(
  answer: (request: CapturedRequest) => { status?: number; body: unknown; headers?: Record<string, string> },
): { fetch: typeof globalThis.fetch; requests: CapturedRequest[] } {
  const requests: CapturedRequest[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const text = await request.text();
    const captured: CapturedRequest = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers.entries()),
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(captured);
    const { status = 200, body, headers = {} } = answer(captured);
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  };
  return { fetch, requests };
}

/** A fetch that records the URL the SDK built and sends the request to `base` instead of the real host. */
export function redirectingFetch(base: string): { fetch: typeof globalThis.fetch; urls: string[] } {
  const urls: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const original = new URL(new Request(input, init).url);
    urls.push(original.toString());
    return globalThis.fetch(`${base}${original.pathname}${original.search}`, init);
  };
  return { fetch, urls };
}

export const reputationTool: Tool<{ ip: string }, { ip: string; score: number }> = {
  name: "threatintel.ip",
  description: "Reputation of an IP address",
  input: z.object({ ip: z.string().describe("IPv4 address") }),
  output: z.object({ ip: z.string(), score: z.number() }),
  async run({ ip }) {
    return { ip, score: 91 };
  },
};

export const verdictSchema = {
  type: "object",
  properties: {
    verdict: { type: "string", enum: ["malicious", "benign"] },
    rationale: { type: "string" },
  },
  required: ["verdict"],
};

export interface TurnsOptions {
  prompt?: string;
  tools?: Tool[];
  callTool?: (name: string, input: unknown) => Promise<unknown>;
  outputSchema?: Record<string, unknown>;
  maxRounds?: number;
}

/**
 * Drives the agent port round by round, the way the agent loop does (without its journal): each round
 * is one `turn`; tool calls are answered through `callTool` and sent back in the next round.
 */
export async function runTurns(agent: AgentModel, options: TurnsOptions = {}) {
  const tools = options.tools ?? [];
  const specs = tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.input, { io: "input", unrepresentable: "any" }) as Record<
      string,
      unknown
    >,
  }));
  const messages: AgentMessage[] = [{ role: "user", text: options.prompt ?? "Is 203.0.113.9 malicious?" }];
  const maxRounds = options.maxRounds ?? 1;
  const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  let toolCalls = 0;
  for (let round = 1; ; round++) {
    const turn = await agent.turn({
      messages,
      tools: specs,
      ...(options.outputSchema ? { outputSchema: options.outputSchema } : {}),
      signal: new AbortController().signal,
    });
    usage.inputTokens += turn.usage?.inputTokens ?? 0;
    usage.outputTokens += turn.usage?.outputTokens ?? 0;
    usage.totalTokens += turn.usage?.totalTokens ?? 0;
    toolCalls += turn.toolCalls.length;
    if (turn.toolCalls.length === 0 || round >= maxRounds) {
      const output = options.outputSchema ? JSON.parse(turn.text) : turn.text;
      return { output, rounds: round, toolCalls, usage, model: turn.model };
    }
    messages.push({ role: "assistant", text: turn.text, toolCalls: turn.toolCalls });
    const results = [];
    for (const call of turn.toolCalls) {
      const output = await (options.callTool ?? (async () => undefined))(call.name, call.input);
      results.push({ callId: call.id, name: call.name, outcome: { kind: "output" as const, output } });
    }
    messages.push({ role: "tool", results });
  }
}
