import { createRoute } from "@hono/zod-openapi";
import type { Principal } from "../../auth/principal.js";
import type { RunState, StepState } from "../../graph/types.js";
import type { ApiApp, ApiContext } from "../context.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";
import { decisionBodySchema, runStatusResponseSchema, stepParamsSchema } from "../schemas.js";
import { runNotFound } from "./runs.js";

function decisionRoute(action: "approve" | "reject") {
  return createRoute({
    method: "post",
    path: `/v1/runs/{id}/steps/{stepId}/${action}`,
    tags: ["approvals"],
    summary: action === "approve" ? "Approve a waiting step" : "Reject a waiting step",
    description:
      "stepId is the step's instance key, URL-encoded (`enrich%5B2%5D%2Fask` for `enrich[2]/ask`). 409 when the step is not waiting for approval (the problem's currentStatus says what it is). When the step names approvers (`role:<name>`, `user:<id or name>`), the caller must be one of them.",
    ...allowRoles("responder"),
    request: {
      params: stepParamsSchema,
      body: { required: false, content: { "application/json": { schema: decisionBodySchema } } },
    },
    responses: {
      200: {
        description: "The decision is recorded and the run moved on.",
        content: { "application/json": { schema: runStatusResponseSchema } },
      },
      ...problems(...AUTH_PROBLEMS, 400, 404, 409, 415, 422),
    },
  });
}

export function registerApprovalRoutes(app: ApiApp, ctx: ApiContext): void {
  for (const action of ["approve", "reject"] as const) {
    app.openapi(decisionRoute(action), async (c) => {
      const { id, stepId: key } = c.req.valid("param");
      const body = c.req.valid("json") as { rationale?: string };
      const principal = c.get("principal");
      c.set("audit", { target: `run:${id}/step:${key}`, details: { decision: action } });
      const state = await ctx.deps.runner.load(id);
      if (!state) throw runNotFound(id);
      const step = waitingStep(state, key);
      checkApprover(step, principal);
      // The principal id is unique and stable (key:<id>, oidc:<sub>); names are labels anyone may reuse.
      const by = principal.id;
      const decision =
        action === "approve"
          ? await ctx.deps.runner.approve(id, key, by, body.rationale)
          : await ctx.deps.runner.reject(id, key, by, body.rationale);
      if (!decision.accepted) {
        // Someone decided (or the run moved on) between our read and our write.
        const current = decision.state.steps[key]?.status ?? "unknown";
        throw notWaiting(id, key, current);
      }
      return c.json({ runId: id, status: decision.state.status, version: decision.state.version }, 200);
    });
  }
}

export function waitingStep(state: RunState, key: string): StepState {
  const step = state.steps[key];
  if (!step) {
    const waiting = Object.values(state.steps)
      .filter((s) => s.status === "waiting_approval")
      .map((s) => s.key);
    throw new ApiProblem(404, {
      kind: "not-found",
      detail: `run "${state.runId}" has no step "${key}"${waiting.length > 0 ? `; steps waiting for approval: ${waiting.join(", ")}` : ""} (URL-encode keys like enrich[2]/ask)`,
      extra: { runId: state.runId, waiting },
    });
  }
  if (step.status !== "waiting_approval") throw notWaiting(state.runId, key, step.status);
  return step;
}

function notWaiting(runId: string, key: string, status: string): ApiProblem {
  return new ApiProblem(409, {
    kind: "not-waiting-for-approval",
    detail: `step "${key}" of run "${runId}" is not waiting for approval (its status is ${status})`,
    extra: { runId, step: key, currentStatus: status },
  });
}

/** `approvers: [role:x, user:y]` on the step narrows who may decide; admins always may. */
export function checkApprover(step: StepState, principal: Principal): void {
  const approvers = step.approval?.request.approvers ?? [];
  if (approvers.length === 0 || principal.roles.includes("admin")) return;
  const allowed = approvers.some((approver) => {
    const [kind, name] = [
      approver.slice(0, approver.indexOf(":")),
      approver.slice(approver.indexOf(":") + 1),
    ];
    if (kind === "role") return (principal.roles as string[]).includes(name);
    return name === principal.id || name === principal.name;
  });
  if (!allowed) {
    throw new ApiProblem(403, {
      kind: "forbidden",
      title: "Forbidden",
      detail: `step "${step.key}" may be decided only by ${approvers.join(", ")}; ${principal.id} is none of them`,
      extra: { approvers },
    });
  }
}
