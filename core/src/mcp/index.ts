export { type AwaitRunOptions, awaitRun, isSettled, waitingApprovals } from "./await-run.js";
export {
  GET_RUN_TOOL,
  getRunDescriptor,
  listPlanTools,
  type PlanTool,
  type PlanToolsOptions,
  planToolName,
} from "./plan-tools.js";
export { errorToolResult, runToolResult } from "./run-result.js";
export { createPlanMcpServer, type PlanMcpServerOptions } from "./server.js";
