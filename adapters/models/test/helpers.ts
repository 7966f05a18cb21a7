import type { Tool } from "@aat/core";
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

export function agentRequest(overrides: Record<string, unknown> = {}) {
  return {
    prompt: "Is 203.0.113.9 malicious?",
    tools: [],
    callTool: async () => undefined,
    maxRounds: 1,
    signal: new AbortController().signal,
    ...overrides,
  };
}
