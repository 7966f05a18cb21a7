import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { RunEventHub } from "../api/event-hub.js";
import type { StartedRun } from "../api/start-run.js";
import type { PlanRepository } from "../plan/repository.js";
import { didYouMean } from "../plan/suggest.js";
import type { Runner } from "../runner/runner.js";
import { awaitRun, isSettled } from "./await-run.js";
import { GET_RUN_TOOL, getRunDescriptor, listPlanTools, waitText } from "./plan-tools.js";
import { errorToolResult, runToolResult } from "./run-result.js";

export interface PlanMcpServerOptions {
  plans: PlanRepository;
  runner: Pick<Runner, "load">;
  /** Starts a run as the calling principal (the API's RunStarter: input checked, then Runner.start). */
  start: (planId: string, input: unknown) => Promise<StartedRun>;
  /** Describes a failure to start a run for the caller, or returns undefined for an unexpected error. */
  describeStartError: (
    error: unknown,
  ) => { message: string; errors?: Array<{ path: string; message: string }> } | undefined;
  events?: RunEventHub;
  /** How long a plan tool call waits for its run. */
  waitMs: number;
  /** How often a waiting call re-reads its run (default 500 ms). */
  pollMs?: number;
  /** aat's version, reported to clients. */
  version: string;
  /** Plans that cannot be offered as tools, for the log. */
  onSkipped?: (planId: string, reason: string) => void;
  /** Called for every run a call started (the route puts it in the audit entry). */
  onRunStarted?: (run: StartedRun) => void;
}

const getRunInput = z.strictObject({ runId: z.string().min(1) });

/**
 * An MCP server (low-level SDK `Server`) offering the published plans as tools plus `get_run`. Built
 * per HTTP request (stateless): the tool list is read from the plan store each time, so a newly
 * published plan is offered at once and any replica can answer any request.
 */
export function createPlanMcpServer(options: PlanMcpServerOptions): Server {
  const server = new Server(
    { name: "aat", title: "AI Agent Tool", version: options.version },
    {
      capabilities: { tools: {} },
      instructions: `Each plan_* tool starts a run of an aat plan and returns its output when the run finishes within ${waitText(options.waitMs)}; otherwise it returns the runId and status, and ${GET_RUN_TOOL} reads the run later.`,
    },
  );
  const planTools = () =>
    listPlanTools(options.plans, {
      waitMs: options.waitMs,
      ...(options.onSkipped ? { onSkipped: options.onSkipped } : {}),
    });

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [...(await planTools()).map((tool) => tool.descriptor), getRunDescriptor],
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    const args = request.params.arguments ?? {};
    if (name === GET_RUN_TOOL) return getRun(args, options);
    const tools = await planTools();
    const tool = tools.find((candidate) => candidate.descriptor.name === name);
    if (!tool) {
      const names = [...tools.map((t) => t.descriptor.name), GET_RUN_TOOL];
      throw new McpError(
        ErrorCode.InvalidParams,
        `unknown tool "${name}"${didYouMean(name, names)}; tools/list names the tools this server offers`,
      );
    }
    let started: StartedRun;
    try {
      started = await options.start(tool.planId, args);
    } catch (error) {
      const described = options.describeStartError(error);
      if (!described) throw error;
      return errorToolResult(`could not start plan "${tool.planId}": ${described.message}`, described.errors);
    }
    options.onRunStarted?.(started);
    if (isSettled(started.state)) return runToolResult(started.state);
    const begun = performance.now();
    const state = await awaitRun(started.runId, options.waitMs, {
      runner: options.runner,
      signal: extra.signal,
      ...(options.events ? { events: options.events } : {}),
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    });
    return runToolResult(state ?? started.state, Math.round(performance.now() - begun));
  });
  return server;
}

async function getRun(args: Record<string, unknown>, options: PlanMcpServerOptions): Promise<CallToolResult> {
  const parsed = getRunInput.safeParse(args);
  if (!parsed.success) {
    return errorToolResult(
      "get_run needs { runId }",
      parsed.error.issues.map((issue) => ({
        path: issue.path.join(".") || "(arguments)",
        message: issue.message,
      })),
    );
  }
  const state = await options.runner.load(parsed.data.runId);
  if (!state) return errorToolResult(`run "${parsed.data.runId}" does not exist`);
  return runToolResult(state);
}
