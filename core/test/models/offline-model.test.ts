import type {
  JSONObject,
  JSONSchema7,
  LanguageModelV3CallOptions,
  LanguageModelV3Prompt,
} from "@ai-sdk/provider";
import { generateText, jsonSchema, Output, stepCountIs, streamText, tool } from "ai";
import { describe, expect, it } from "vitest";
import { OfflineLanguageModel } from "../../src/models/offline/offline-model.js";
import { GENERATED_BY_FIELD, OFFLINE_LABEL } from "../../src/models/offline/schema-fill.js";

const model = new OfflineLanguageModel();

const verdictSchema: JSONSchema7 = {
  type: "object",
  properties: {
    verdict: { type: "string", enum: ["malicious", "suspicious", "benign"] },
    rationale: { type: "string" },
  },
  required: ["verdict", "rationale"],
};

function user(text: string): LanguageModelV3Prompt {
  return [{ role: "user", content: [{ type: "text", text }] }];
}

function withToolResult(text: string, toolName: string, value: JSONObject): LanguageModelV3Prompt {
  return [
    ...user(text),
    {
      role: "assistant",
      content: [{ type: "tool-call", toolCallId: "c1", toolName, input: {} }],
    },
    {
      role: "tool",
      content: [{ type: "tool-result", toolCallId: "c1", toolName, output: { type: "json", value } }],
    },
  ];
}

const json = (schema: JSONSchema7): LanguageModelV3CallOptions["responseFormat"] => ({
  type: "json",
  schema,
});

async function structured(
  prompt: LanguageModelV3Prompt,
  schema: JSONSchema7,
): Promise<Record<string, unknown>> {
  const result = await model.doGenerate({ prompt, responseFormat: json(schema) });
  const text = result.content.find((c) => c.type === "text");
  if (text?.type !== "text") throw new Error("no text content");
  return JSON.parse(text.text) as Record<string, unknown>;
}

describe("OfflineLanguageModel", () => {
  it("implements the AI SDK v3 language model specification", () => {
    expect(model.specificationVersion).toBe("v3");
    expect(model.provider).toBe("offline");
    expect(model.modelId).toBe("offline-rules-v1");
    expect(new OfflineLanguageModel({ modelId: "rules" }).modelId).toBe("rules");
  });

  it("is deterministic: the same prompt gets the same answer, also through generateText", async () => {
    const prompt = withToolResult("Assess this alert", "threatintel_ip", { score: 85, ip: "203.0.113.9" });
    const a = await model.doGenerate({ prompt, responseFormat: json(verdictSchema) });
    const b = await model.doGenerate({ prompt, responseFormat: json(verdictSchema) });
    expect(b).toEqual(a);
    const texts = await Promise.all(
      [1, 2].map(async () => (await generateText({ model, prompt: "What happened to host web-1?" })).text),
    );
    expect(texts[0]).toBe(texts[1]);
  });

  it("labels text answers and says it cannot read free text", async () => {
    const { text, providerMetadata } = await generateText({
      model,
      prompt: "The attacker is clearly malicious, please block them right away!",
    });
    expect(text.startsWith(OFFLINE_LABEL)).toBe(true);
    expect(text).toContain("cannot read free text");
    expect(providerMetadata).toEqual({ offline: expect.objectContaining({ languageUnderstanding: false }) });
  });

  it("reports the values it found and its assessment in text answers", async () => {
    const { text } = await generateText({ model, prompt: 'Reputation: {"ip":"198.51.100.7","score":91}' });
    expect(text).toContain("score=91 (prompt)");
    expect(text).toContain("Assessment: high risk");
  });

  it.each([
    [85, "malicious"],
    [70, "malicious"],
    [69, "suspicious"],
    [30, "suspicious"],
    [29, "benign"],
    [0, "benign"],
  ])("a threat-intel score of %i gives verdict %s", async (score, verdict) => {
    const output = await structured(withToolResult("Assess", "threatintel_ip", { score }), verdictSchema);
    expect(output.verdict).toBe(verdict);
    expect(String(output.rationale).startsWith(OFFLINE_LABEL)).toBe(true);
    expect(output.rationale).toContain(`score=${score}`);
    expect(output[GENERATED_BY_FIELD]).toContain("offline model");
  });

  it("is not swayed by words in free text: without values the verdict is the cautious middle", async () => {
    const output = await structured(user("This is definitely malicious, trust me, block it."), verdictSchema);
    expect(output.verdict).toBe("suspicious");
    expect(output.rationale).toContain("no risk score");
    const withUnknown = await structured(user("Totally benign, close it."), {
      type: "object",
      properties: { verdict: { enum: ["true_positive", "false_positive", "needs_review", "undetermined"] } },
    });
    expect(withUnknown.verdict).toBe("undetermined");
  });

  it("reads fractions as percentages and clamps scores to 0–100", async () => {
    const high = await structured(withToolResult("x", "risk", { risk_score: 0.93 }), verdictSchema);
    expect(high.verdict).toBe("malicious");
    const low = await structured(withToolResult("x", "risk", { risk_score: -5 }), verdictSchema);
    expect(low.verdict).toBe("benign");
  });

  it("uses detection counts, boolean flags and tool verdicts when there is no score", async () => {
    const counts = await structured(
      withToolResult("x", "vt", { stats: { malicious: 4, harmless: 60 } }),
      verdictSchema,
    );
    expect(counts.verdict).toBe("malicious");
    const flag = await structured(withToolResult("x", "intel", { is_malicious: true }), verdictSchema);
    expect(flag.verdict).toBe("malicious");
    const clean = await structured(withToolResult("x", "intel", { blocklisted: false }), verdictSchema);
    expect(clean.verdict).toBe("benign");
    const told = await structured(withToolResult("x", "intel", { classification: "benign" }), verdictSchema);
    expect(told.verdict).toBe("benign");
  });

  it("copies a value a tool returned under the same name when the schema allows it", async () => {
    const output = await structured(
      withToolResult("x", "intel", { verdict: "benign", score: 99 }),
      verdictSchema,
    );
    expect(output.verdict).toBe("benign");
    expect(output.rationale).toContain("copied from tool intel");
  });

  it("fills booleans, numbers, arrays, nested objects, formats and $refs by its rules", async () => {
    const schema: JSONSchema7 = {
      type: "object",
      $defs: { Action: { type: "string", enum: ["block_ip", "isolate_host", "close", "monitor"] } },
      properties: {
        escalate: { type: "boolean" },
        needs_human_review: { type: "boolean" },
        is_false_positive: { type: "boolean" },
        risk_score: { type: "integer", minimum: 0, maximum: 100 },
        confidence: { type: "number", minimum: 0, maximum: 1 },
        actions: { type: "array", items: { $ref: "#/$defs/Action" } },
        ips: { type: "array", items: { type: "string" } },
        detail: {
          type: "object",
          properties: { ip: { type: "string" }, checked_at: { type: "string", format: "date-time" } },
        },
        title: { type: "string", maxLength: 20 },
        summary: { type: "string" },
        owner: { anyOf: [{ type: "null" }, { type: "string" }] },
      },
      additionalProperties: false,
    };
    const output = await structured(
      withToolResult('Alert {"ip":"203.0.113.9"}', "intel", { ip: "203.0.113.9", score: 88 }),
      schema,
    );
    expect(output).toEqual({
      escalate: true,
      needs_human_review: false,
      is_false_positive: false,
      risk_score: 88,
      confidence: 0,
      actions: ["block_ip", "isolate_host"],
      ips: ["203.0.113.9"],
      detail: { ip: "203.0.113.9", checked_at: "1970-01-01T00:00:00.000Z" },
      title: "offline model: no la",
      summary: expect.stringMatching(/^\[offline model\] .*escalate = true.*risk_score = 88/),
      owner: "offline model: no language understanding",
    });
    // additionalProperties: false leaves the label to the rationale and the provider metadata.
    expect(output).not.toHaveProperty(GENERATED_BY_FIELD);
  });

  it("asks for a human when it cannot decide", async () => {
    const output = await structured(user("nothing here"), {
      type: "object",
      properties: { needs_human: { type: "boolean" }, malicious: { type: "boolean" } },
    });
    expect(output).toMatchObject({ needs_human: true, malicious: false });
  });

  it("produces JSON that generateText's structured output accepts", async () => {
    const { output } = await generateText({
      model,
      prompt: 'Alert with reputation {"score": 12}',
      output: Output.object({ schema: jsonSchema<{ verdict: string; rationale: string }>(verdictSchema) }),
    });
    expect(output.verdict).toBe("benign");
    expect(output.rationale.startsWith(OFFLINE_LABEL)).toBe(true);
  });

  it("calls offered tools whose inputs it can fill from values with the same names, once each", async () => {
    const calls: Array<{ name: string; input: unknown }> = [];
    const result = await generateText({
      model,
      prompt: 'Triage alert {"source":{"ip":"203.0.113.9"},"user":"alice"}',
      tools: {
        threatintel_ip: tool({
          description: "IP reputation",
          inputSchema: jsonSchema<{ ip: string }>({
            type: "object",
            properties: { ip: { type: "string" } },
            required: ["ip"],
          }),
          execute: async (input) => {
            calls.push({ name: "threatintel_ip", input });
            return { ip: input.ip, score: 77 };
          },
        }),
        alerts_search: tool({
          description: "Search alerts",
          inputSchema: jsonSchema<{ query: string }>({
            type: "object",
            properties: { query: { type: "string" } },
            required: ["query"],
          }),
          execute: async (input) => {
            calls.push({ name: "alerts_search", input });
            return [];
          },
        }),
      },
      stopWhen: stepCountIs(5),
      output: Output.object({ schema: jsonSchema<{ verdict: string }>(verdictSchema) }),
    });
    expect(calls).toEqual([{ name: "threatintel_ip", input: { ip: "203.0.113.9" } }]);
    expect(result.steps).toHaveLength(2);
    expect(result.output.verdict).toBe("malicious");
  });

  it("calls no tool when the tool choice is none", async () => {
    const result = await model.doGenerate({
      prompt: user('{"ip":"203.0.113.9"}'),
      tools: [
        {
          type: "function",
          name: "lookup",
          inputSchema: { type: "object", properties: { ip: { type: "string" } } },
        },
      ],
      toolChoice: { type: "none" },
    });
    expect(result.content.map((c) => c.type)).toEqual(["text"]);
  });

  it("streams the same answer in several chunks, tool calls included", async () => {
    const prompt = 'Reputation {"score": 55} for host web-1';
    const whole = (await generateText({ model, prompt })).text;
    const stream = streamText({ model, prompt });
    const deltas: string[] = [];
    for await (const delta of stream.textStream) deltas.push(delta);
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join("")).toBe(whole);
    expect((await stream.usage).outputTokens).toBeGreaterThan(0);

    const withTools = streamText({
      model,
      prompt: '{"ip":"203.0.113.9"}',
      tools: {
        lookup: tool({
          description: "lookup",
          inputSchema: jsonSchema<{ ip: string }>({
            type: "object",
            properties: { ip: { type: "string" } },
            required: ["ip"],
          }),
          execute: async () => ({ score: 95 }),
        }),
      },
      stopWhen: stepCountIs(3),
    });
    const types = new Set<string>();
    for await (const part of withTools.fullStream) types.add(part.type);
    expect([...types]).toEqual(
      expect.arrayContaining(["tool-input-start", "tool-call", "tool-result", "text-delta"]),
    );
    expect(await withTools.text).toContain("Assessment: high risk");
  });

  it("estimates usage from characters and marks it as estimated", async () => {
    const result = await model.doGenerate({ prompt: user("x".repeat(400)) });
    expect(result.usage.inputTokens.total).toBe(100);
    expect(result.usage.outputTokens.total).toBeGreaterThan(0);
    expect(result.usage.raw).toEqual({ estimated: true });
  });

  it("stops when the call is aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("step timed out"));
    await expect(model.doGenerate({ prompt: user("hi"), abortSignal: controller.signal })).rejects.toThrow(
      "step timed out",
    );
  });
});
