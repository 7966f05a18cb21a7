import type { Tool as McpToolDescriptor } from "@modelcontextprotocol/sdk/types.js";
import type { PlanRepository } from "../plan/repository.js";
import type { PlanDefinition } from "../plan/schema.js";

/** The tool that reads a run's status and result, for runs that outlast a plan tool's wait. */
export const GET_RUN_TOOL = "get_run";

/** `plan_<id>` with every `.` turned into `_`: `automation.hello` → `plan_automation_hello`. */
export function planToolName(planId: string): string {
  return `plan_${planId.replace(/\./g, "_")}`;
}

/** One published plan as an MCP tool, pinned to the version that was current when tools were listed. */
export interface PlanTool {
  planId: string;
  version: number;
  descriptor: McpToolDescriptor;
}

export interface PlanToolsOptions {
  /** How long a call waits for its run, to say so in the description. */
  waitMs: number;
  /** Told about plans that cannot be offered (for the server's log). */
  onSkipped?: (planId: string, reason: string) => void;
}

/**
 * The plans an MCP client may start: every plan with a `manual` trigger (the default), as
 * `plan_<id>` with the plan's title, description and `inputs` JSON Schema. Plans triggered only by
 * webhooks, schedules or events are left out, as is a plan whose inputs are not an object (MCP tool
 * arguments always are) and the later of two ids that give the same tool name.
 */
export async function listPlanTools(plans: PlanRepository, options: PlanToolsOptions): Promise<PlanTool[]> {
  const summaries = [...(await plans.list())].sort((a, b) => a.id.localeCompare(b.id));
  const tools: PlanTool[] = [];
  const taken = new Map<string, string>();
  for (const summary of summaries) {
    const stored = await plans.get(summary.id);
    if (!stored) continue;
    const { definition } = stored;
    if (!definition.triggers.some((trigger) => trigger.type === "manual")) continue;
    const inputSchema = toolInputSchema(definition);
    if (!inputSchema) {
      options.onSkipped?.(
        definition.id,
        `its inputs schema is of type ${JSON.stringify(definition.inputs?.type)}, not object`,
      );
      continue;
    }
    const name = planToolName(definition.id);
    const holder = taken.get(name);
    if (holder !== undefined) {
      options.onSkipped?.(definition.id, `its tool name ${name} is already that of plan "${holder}"`);
      continue;
    }
    taken.set(name, definition.id);
    tools.push({
      planId: definition.id,
      version: stored.version,
      descriptor: {
        name,
        title: definition.title,
        description: describePlan(definition, stored.version, options.waitMs),
        inputSchema,
        annotations: { title: definition.title, readOnlyHint: false, openWorldHint: true },
      },
    });
  }
  return tools;
}

export const getRunDescriptor: McpToolDescriptor = {
  name: GET_RUN_TOOL,
  title: "Read a run",
  description:
    "The status of an aat run and, once it has finished, its output or error. Use it with the runId a plan tool returned when its run was still going.",
  inputSchema: {
    type: "object",
    properties: { runId: { type: "string", minLength: 1, description: "The runId a plan tool returned." } },
    required: ["runId"],
    additionalProperties: false,
  },
  annotations: { title: "Read a run", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
};

function toolInputSchema(definition: PlanDefinition): McpToolDescriptor["inputSchema"] | undefined {
  const inputs = definition.inputs;
  if (!inputs) return { type: "object" };
  if (inputs.type !== undefined && inputs.type !== "object") return undefined;
  return { ...inputs, type: "object" };
}

function describePlan(definition: PlanDefinition, version: number, waitMs: number): string {
  const about = definition.description?.trim();
  return [
    definition.title,
    ...(about ? [about] : []),
    `Starts a run of aat plan "${definition.id}" (version ${version}, workflow ${definition.workflow}) with the arguments as its input, and returns the run's output. A run still going after ${waitText(waitMs)} is returned with its runId and status: read it later with ${GET_RUN_TOOL}.`,
  ].join("\n\n");
}

/** `30 s`, or `250 ms` below a second. */
export function waitText(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
