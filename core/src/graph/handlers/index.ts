import type { PlanFactory } from "../factory.js";
import { agentHandler } from "./agent.js";
import { approvalHandler } from "./approval.js";
import { branchHandler } from "./branch.js";
import { mapHandler } from "./map.js";
import { parallelHandler } from "./parallel.js";
import { planHandler } from "./plan.js";
import { setHandler } from "./set.js";
import { toolHandler } from "./tool.js";
import { waitHandler } from "./wait.js";

export { invokeTool } from "./tool-call.js";
export {
  agentHandler,
  approvalHandler,
  branchHandler,
  mapHandler,
  parallelHandler,
  planHandler,
  setHandler,
  toolHandler,
  waitHandler,
};

/** Register the handlers of every built-in node type. */
export function registerBuiltinHandlers(factory: PlanFactory): PlanFactory {
  return factory
    .registerHandler("set", setHandler)
    .registerHandler("branch", branchHandler)
    .registerHandler("wait", waitHandler)
    .registerHandler("approval", approvalHandler)
    .registerHandler("parallel", parallelHandler)
    .registerHandler("map", mapHandler)
    .registerHandler("plan", planHandler)
    .registerHandler("tool", toolHandler)
    .registerHandler("agent", agentHandler);
}
