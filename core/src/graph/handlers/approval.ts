import type { StepDefinition } from "../../plan/schema.js";
import type { NodeHandler } from "../types.js";

type ApprovalStep = Extract<StepDefinition, { type: "approval" }>;

/** `approval`: suspend until someone among `approvers` grants or denies; `message` is what they see. */
export const approvalHandler: NodeHandler<ApprovalStep> = {
  pure: true,
  async execute(step, ctx) {
    const message = step.message === undefined ? undefined : await ctx.evaluate("message");
    return {
      kind: "suspend",
      suspension: {
        kind: "approval",
        request: {
          approvers: [...step.approvers],
          ...(message !== undefined
            ? { message: typeof message === "string" ? message : JSON.stringify(message) }
            : {}),
        },
      },
    };
  },
};
