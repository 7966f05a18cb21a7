// Runs isolated (vitest.config.ts ISOLATED): which modules are loaded is the point, and it imports the
// plan modules one by one, never the index (the index loads the loader, which provides the reader).
import { describe, expect, it } from "vitest";
import { checkPlan } from "../../src/plan/checks.js";
import { jsonSchemaReader } from "../../src/plan/json-schema.js";
import { KvPlanRepository } from "../../src/plan/kv-repository.js";
import { planDefinition } from "../../src/plan/schema.js";
import type { KeyValue } from "../../src/ports/kv.js";

const withInputs = planDefinition.parse({
  id: "t.inputs",
  workflow: "automation",
  title: "t",
  inputs: { type: "wat" },
  steps: [{ id: "a", type: "set", values: {} }],
});
const plain = planDefinition.parse({
  id: "t.plain",
  workflow: "automation",
  title: "t",
  steps: [{ id: "a", type: "set", values: {} }],
});

/** Just what KvPlanRepository.get reads: the head and the version records. */
function storeOf(...definitions: (typeof plain)[]): KeyValue {
  const entries = new Map<string, unknown>();
  for (const definition of definitions) {
    entries.set(`plan-heads/${definition.id}`, {
      id: definition.id,
      version: 1,
      hash: "h",
      workflow: definition.workflow,
      title: definition.title,
      publishedAt: 1,
    });
    entries.set(`plans/${definition.id}/v/0000000001`, {
      id: definition.id,
      version: 1,
      hash: "h",
      source: "",
      definition,
      publishedAt: 1,
    });
  }
  const get = async (key: string) => (entries.has(key) ? { value: entries.get(key), version: 1 } : undefined);
  return { get } as unknown as KeyValue;
}

describe("the plan checks' JSON Schema reader (classic zod, loaded on first need)", () => {
  it("is not loaded by the plan modules; a stored plan without JSON Schemas does not load it", async () => {
    expect(jsonSchemaReader()).toBeUndefined();
    const repo = new KvPlanRepository(storeOf(plain, withInputs));
    expect((await repo.get("t.plain"))?.definition.id).toBe("t.plain");
    expect(jsonSchemaReader()).toBeUndefined();
    // Without the reader the re-check leaves JSON Schemas to the loader (every written plan passed it).
    expect(checkPlan(withInputs)).toEqual([]);
  });

  it("is loaded by the KV repository before it hands out a plan with JSON Schemas, so a re-check reads them", async () => {
    const repo = new KvPlanRepository(storeOf(plain, withInputs));
    const stored = await repo.get("t.inputs");
    expect(jsonSchemaReader()).toBeTypeOf("function");
    expect(checkPlan(stored!.definition)).toEqual([
      {
        path: ["inputs"],
        message:
          "inputs is not a JSON Schema that can be read: Unsupported type: wat; see https://json-schema.org/understanding-json-schema",
      },
    ]);
  });
});
