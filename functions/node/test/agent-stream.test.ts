import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import { createModelRegistry } from "@aat/adapter-models";
import {
  createRunner,
  LanguageModelAgent,
  planDefinition,
  type RunState,
  ToolRegistry,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { ScriptedLlmServer } from "@aat/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "./support.js";

const plan = planDefinition.parse({
  id: "agent.stream",
  workflow: "chat",
  title: "Answers in text",
  steps: [{ id: "answer", type: "agent", prompt: "Say hello to {% input.name %}." }],
});

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe("agent step token streaming (RunnerOptions.onTextDelta)", () => {
  it("streams the model's text token by token through streamText over HTTP; the output is the whole text", async () => {
    const server = await ScriptedLlmServer.start([
      { kind: "reply", text: "Hello, Ada! Nice to meet you.", chunkSize: 5 },
    ]);
    cleanup.push(() => server.close());
    const models = createModelRegistry(
      {
        default: "chat",
        providers: {
          chat: {
            provider: "openai",
            model: "gpt-4o-mini",
            apiKey: "sk-test-stream-0001",
            baseUrl: server.openAiBaseUrl,
          },
        },
      },
      { env: {} },
    );
    const kv = new MemoryKeyValue();
    const queue = new MemoryQueue<WorkMessage>({ name: "agent-stream" });
    const deltas: Array<{ runId: string; stepKey: string; delta: string }> = [];
    const runner = createRunner({
      kv,
      queue,
      plans: { get: async (id) => (id === plan.id ? { definition: plan, version: 1 } : undefined) },
      services: { tools: new ToolRegistry(), model: new LanguageModelAgent(models) },
      onTextDelta: (runId, stepKey, delta) => deltas.push({ runId, stepKey, delta }),
    });
    const worker = new Worker(runner, queue);
    worker.start();
    cleanup.push(() => worker.stop());

    const { runId } = await runner.start({ planId: plan.id, input: { name: "Ada" } });
    const done = await eventually<RunState>(async () => {
      const state = await runner.load(runId);
      return state && (state.status === "succeeded" || state.status === "failed") ? state : undefined;
    }, "the run to finish");

    expect(done.status).toBe("succeeded");
    expect(done.output).toBe("Hello, Ada! Nice to meet you.");
    expect(deltas.map((d) => d.delta)).toEqual(["Hello", ", Ada", "! Nic", "e to ", "meet ", "you."]);
    expect(deltas.every((d) => d.runId === runId && d.stepKey === "answer")).toBe(true);
    expect(server.requests[0]!.body).toMatchObject({ stream: true });
  });
});
