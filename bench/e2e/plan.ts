import { type Tool, ToolRegistry } from "@aat/core";
import { z } from "zod";

/**
 * The benchmark plan: a parallel pair of stub tools, a branch, a set and a stub action. Tool steps go
 * through the queue and a worker with dedupe claims, as in production; branch and set run inline.
 */
export const E2E_PLAN = `
id: bench.e2e
workflow: automation
title: Two lookups in parallel, a decision, a summary and an action
inputs:
  type: object
  properties: { n: { type: integer } }
  required: [n]
steps:
  - id: lookups
    type: parallel
    branches:
      - steps:
          - id: left
            type: tool
            tool: bench.lookup
            with: { n: "{% input.n %}" }
      - steps:
          - id: right
            type: tool
            tool: bench.lookup
            with: { n: "{% input.n + 1 %}" }
  - id: decide
    type: branch
    cases:
      - when: steps.left.output.score > steps.right.output.score
        next: summary
    default: summary
  - id: summary
    type: set
    values: { total: "{% steps.left.output.score + steps.right.output.score %}" }
  - id: act
    type: tool
    tool: bench.act
    with: { total: "{% steps.summary.output.total %}" }
`;

/** The id of the step whose success ends a run. */
export const LAST_STEP = "act";

export function benchTools(): ToolRegistry {
  const lookup: Tool<{ n: number }, { score: number }> = {
    name: "bench.lookup",
    description: "Stub lookup: answers at once",
    input: z.object({ n: z.number() }),
    output: z.object({ score: z.number() }),
    run: async (input) => ({ score: input.n * 2 }),
  };
  const act: Tool<{ total: number }, { done: boolean }> = {
    name: "bench.act",
    description: "Stub action: answers at once",
    input: z.object({ total: z.number() }),
    output: z.object({ done: z.boolean() }),
    run: async () => ({ done: true }),
  };
  return new ToolRegistry([lookup, act]);
}
