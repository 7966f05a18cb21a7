import { compileExpression, compileTemplate } from "../expr/index.js";
import { type CheckOptions, checkPlan, type PlanProblem } from "../plan/checks.js";
import { stepExpressionFields } from "../plan/fields.js";
import { NODE_TYPES, type PlanDefinition, type StepDefinition } from "../plan/schema.js";
import { analyseStructure, type DocPath, formatPath } from "../plan/structure.js";
import { allSteps } from "../plan/walk.js";
import type { ToolCatalog } from "../tools/types.js";
import { PlanCompileError } from "./errors.js";
import {
  type CompiledField,
  ExecutionGraph,
  type GraphFlow,
  type GraphStep,
  OUTPUT_STEP,
  ROOT_FLOW,
} from "./execution-graph.js";
import { outputHandler } from "./handlers/output.js";
import type { NodeHandler } from "./types.js";

export type { CompiledField, ExecutionGraphParts, GraphFlow, GraphStep } from "./execution-graph.js";
export { ExecutionGraph } from "./execution-graph.js";

export interface PlanFactoryOptions {
  /** Handed to handlers at load time (`validate`) and run time (`ctx.services`): `tools`, `model`, … */
  services?: Record<string, unknown>;
}

/**
 * Turns checked plan definitions into ExecutionGraphs. Node behaviour comes only from handlers
 * registered here; every expression is compiled once, in `compile`.
 */
export class PlanFactory {
  private readonly handlers = new Map<string, NodeHandler>();
  readonly services: Readonly<Record<string, unknown>>;

  constructor(options: PlanFactoryOptions = {}) {
    this.services = { ...options.services };
  }

  /** Attach the behaviour of a node type (registering a type again replaces its handler). */
  registerHandler(type: string, handler: NodeHandler): this {
    if (!(NODE_TYPES as readonly string[]).includes(type)) {
      throw new Error(
        `cannot register a handler for "${type}": plans only use the node types ${NODE_TYPES.join(", ")}`,
      );
    }
    if (typeof handler?.execute !== "function" || typeof handler.pure !== "boolean") {
      throw new TypeError(
        `the handler for "${type}" needs a boolean \`pure\` and an \`execute(step, ctx)\` function`,
      );
    }
    this.handlers.set(type, handler);
    return this;
  }

  hasHandler(type: string): boolean {
    return this.handlers.has(type);
  }

  /** Every problem that stops the plan from compiling: the plan checks plus each handler's own. */
  check(definition: PlanDefinition): PlanProblem[] {
    const options: CheckOptions = { nodeTypes: { has: (type) => this.handlers.has(type) } };
    const catalog = toolCatalog(this.services.tools);
    if (catalog) options.tools = catalog;
    const problems = checkPlan(definition, options);
    // The plan checks already speak about tools when a catalog is given; keep one message per path.
    const reported = new Set(problems.map((p) => formatPath(p.path)));
    for (const { def, path } of allSteps(definition.steps)) {
      for (const problem of this.handlerProblems(def, path, definition)) {
        const at = formatPath(problem.path);
        if (reported.has(at)) continue;
        reported.add(at);
        problems.push(problem);
      }
    }
    return problems;
  }

  /** Check and compile; throws PlanCompileError listing every problem. */
  compile(definition: PlanDefinition): ExecutionGraph {
    const problems = this.check(definition);
    if (problems.length > 0) throw new PlanCompileError(definition.id, problems);

    const structure = analyseStructure(definition.steps);
    const flows = new Map<string, GraphFlow>();
    for (const flow of structure.flows.values()) {
      flows.set(flow.id, {
        id: flow.id,
        first: flow.steps[0]!,
        steps: flow.steps,
        ...(flow.container !== undefined
          ? { container: flow.container, branchIndex: flow.branchIndex ?? 0 }
          : {}),
      });
    }

    const steps = new Map<string, GraphStep>();
    const iterationSteps = new Map<string, string[]>();
    const rootScopeSteps: string[] = [];
    for (const node of structure.nodes.values()) {
      const ancestors: string[] = [];
      for (let flow = structure.flows.get(node.flow); flow?.container !== undefined; ) {
        ancestors.push(flow.container);
        flow = structure.flows.get(structure.nodes.get(flow.container)!.flow);
      }
      const scope = ancestors.find((id) => structure.nodes.get(id)!.def.type === "map");
      if (scope === undefined) rootScopeSteps.push(node.id);
      else iterationSteps.set(scope, [...(iterationSteps.get(scope) ?? []), node.id]);
      const def = node.def;
      steps.set(node.id, {
        id: node.id,
        def,
        handler: this.handlers.get(def.type)!,
        path: node.path,
        flow: node.flow,
        ...(node.next !== undefined ? { next: node.next } : {}),
        fields: compileFields(def, node.path),
        ancestors: new Set(ancestors),
        ...(scope !== undefined ? { scope } : {}),
        childFlows:
          def.type === "parallel"
            ? def.branches.map((_, i) => `${node.id}#${i}`)
            : def.type === "map"
              ? [`${node.id}#0`]
              : [],
        iterationSteps: [],
      });
    }
    for (const [mapId, ids] of iterationSteps)
      steps.set(mapId, { ...steps.get(mapId)!, iterationSteps: ids });

    const hasOutputs = definition.outputs !== undefined;
    if (hasOutputs) {
      const def: StepDefinition = { id: OUTPUT_STEP, type: "set", values: {} };
      steps.set(OUTPUT_STEP, {
        id: OUTPUT_STEP,
        def,
        handler: outputHandler,
        path: ["outputs"],
        flow: OUTPUT_STEP,
        fields: new Map([["outputs", templateField(definition.outputs, ["outputs"])]]),
        ancestors: new Set(),
        childFlows: [],
        iterationSteps: [],
      });
      flows.set(OUTPUT_STEP, { id: OUTPUT_STEP, first: OUTPUT_STEP, steps: [OUTPUT_STEP] });
    }
    if (!flows.has(ROOT_FLOW))
      throw new PlanCompileError(definition.id, [{ path: ["steps"], message: "no steps" }]);

    return new ExecutionGraph({
      plan: definition,
      steps,
      flows,
      rootScopeSteps,
      hasOutputs,
      services: this.services,
    });
  }

  private handlerProblems(def: StepDefinition, path: DocPath, plan: PlanDefinition): PlanProblem[] {
    const handler = this.handlers.get(def.type);
    if (!handler?.validate) return [];
    try {
      return handler
        .validate(def, plan, this.services)
        .map((p) => ({ path: [...path, ...p.path], message: p.message }));
    } catch (error) {
      return [
        {
          path,
          message: `the ${def.type} handler could not check this step: ${error instanceof Error ? error.message : String(error)}`,
        },
      ];
    }
  }
}

function compileFields(def: StepDefinition, stepPath: DocPath): Map<string, CompiledField> {
  const fields = new Map<string, CompiledField>();
  for (const field of stepExpressionFields(def)) {
    const path = [...stepPath, ...field.path];
    if (field.kind === "expression") {
      const compiled = compileExpression(String(field.value), path);
      fields.set(field.key, {
        kind: "expression",
        evaluate: compiled.evaluate,
        evaluateNow: compiled.evaluateNow,
      });
    } else {
      fields.set(field.key, templateField(field.value, path));
    }
  }
  return fields;
}

function templateField(value: unknown, path: DocPath): CompiledField {
  const compiled = compileTemplate(value, path);
  return { kind: "template", evaluate: compiled.evaluate, evaluateNow: compiled.evaluateNow };
}

/** The `tools` service when it can answer "does this tool exist" (a ToolRegistry does). */
function toolCatalog(value: unknown): CheckOptions["tools"] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (typeof (value as { get?: unknown }).get !== "function") return undefined;
  return value as ToolCatalog & { names?(): Iterable<string> };
}
