import type { ZodType } from "zod";
import type { ExecutionGraph } from "../graph/factory.js";
import type { RunState } from "../graph/types.js";
import { type JsonSchemaReader, loadJsonSchemaReader } from "../plan/json-schema.js";
import type { PlanDefinition } from "../plan/schema.js";
import { inSpan, recording } from "../telemetry/tracing.js";
import { RunInputError } from "./errors.js";

/** Where the runner finds plan definitions: any PlanRepository fits. */
export interface PlanSource {
  get(id: string, version?: number): Promise<{ definition: PlanDefinition; version: number } | undefined>;
}

interface CachedPlan {
  definition: PlanDefinition;
  version: number;
  graph: ExecutionGraph;
  inputSchema?: ZodType;
}

/**
 * Compiled graphs by plan id and version. A published version never changes, so a compiled graph is
 * valid forever; runs pin the version they started with.
 */
export class GraphCache {
  private readonly byVersion = new Map<string, CachedPlan>();

  constructor(
    private readonly plans: PlanSource,
    private readonly compile: (definition: PlanDefinition) => ExecutionGraph,
  ) {}

  async resolve(
    id: string,
    version?: number,
  ): Promise<{ graph?: ExecutionGraph; definition?: PlanDefinition; version?: number }> {
    if (version !== undefined) {
      const cached = this.byVersion.get(cacheKey(id, version));
      if (cached) return cached;
    }
    const stored = recording()
      ? await inSpan("plan.load", { attributes: { "aat.plan.id": id } }, () => this.plans.get(id, version))
      : await this.plans.get(id, version);
    if (!stored) return {};
    return this.remember(stored.definition, stored.version);
  }

  async forPlan(id: string, version: number): Promise<ExecutionGraph> {
    const { graph } = await this.resolve(id, version);
    if (!graph)
      throw new Error(`plan ${id} version ${version} is no longer available; its runs cannot continue`);
    return graph;
  }

  forRun(state: RunState): Promise<ExecutionGraph> {
    return this.forPlan(state.plan.id, state.plan.version);
  }

  validateInput(definition: PlanDefinition, version: number, input: unknown): void {
    const cached = this.byVersion.get(cacheKey(definition.id, version));
    const schema = cached?.inputSchema;
    if (!schema) return;
    const result = schema.safeParse(input);
    if (!result.success) {
      throw new RunInputError(
        definition.id,
        result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
      );
    }
  }

  private async remember(definition: PlanDefinition, version: number): Promise<CachedPlan> {
    const key = cacheKey(definition.id, version);
    const existing = this.byVersion.get(key);
    if (existing) return existing;
    const graph = this.compile(definition);
    let inputSchema: ZodType | undefined;
    if (definition.inputs) {
      // Classic zod's reader, loaded with the first plan that has inputs (plan/json-schema.ts).
      const read = await loadJsonSchemaReader();
      inputSchema = read(definition.inputs as Parameters<JsonSchemaReader>[0]);
    }
    // Another resolve may have compiled the same version while the reader loaded: the first one stays.
    const raced = this.byVersion.get(key);
    if (raced) return raced;
    const entry: CachedPlan = { definition, version, graph, ...(inputSchema ? { inputSchema } : {}) };
    this.byVersion.set(key, entry);
    return entry;
  }
}

function cacheKey(id: string, version: number): string {
  return `${id}@${version}`;
}
