import { type Tool, ToolRegistry } from "@aat/core";
import { z } from "zod";

export const STEPS = 10;

/** Ten tool steps in a chain: each goes through the queue and a worker with its dedupe claim. */
export const DURABLE_PLAN = [
  "id: bench.durable",
  "workflow: automation",
  "title: Ten tool steps in a chain",
  "inputs:",
  "  type: object",
  "  properties: { n: { type: integer } }",
  "  required: [n]",
  "steps:",
  ...Array.from({ length: STEPS }, (_, i) =>
    [
      `  - id: s${i + 1}`,
      "    type: tool",
      "    tool: bench.step",
      `    with: { n: "{% ${i === 0 ? "input.n" : `steps.s${i}.output.n`} + 1 %}" }`,
    ].join("\n"),
  ),
].join("\n");

/** The id of the step whose success ends a run. */
export const LAST_STEP = `s${STEPS}`;

export function durableTools(): ToolRegistry {
  const step: Tool<{ n: number }, { n: number }> = {
    name: "bench.step",
    description: "Stub step: answers at once",
    input: z.object({ n: z.number() }),
    output: z.object({ n: z.number() }),
    run: async (input) => ({ n: input.n }),
  };
  return new ToolRegistry([step]);
}
