import * as z from "zod/mini";
import { installZodDefaults } from "../../zod-defaults.js";
import { ToolApprovalRequired } from "../errors.js";
import { onFirstUse } from "../first-use.js";
import type { Tool } from "../types.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

const input = onFirstUse(() =>
  z.strictObject({
    question: z
      .string()
      .check(
        z.minLength(1, "must be the question to ask"),
        z.maxLength(4_000, "may be at most 4,000 characters"),
      ),
    approvers: z._default(
      z.array(z.string().check(z.regex(/^(role|user):.+$/, "must be role:<name> or user:<name>"))),
      [],
    ),
    details: z.optional(z.json()),
  }),
);
/** The approval decision, as approval steps record it: the person's answer is `rationale`. */
const output = onFirstUse(() =>
  z.strictObject({
    approved: z.boolean(),
    by: z.string(),
    rationale: z.optional(z.string()),
    at: z.number(),
  }),
);

/**
 * `human.ask`: put a question to a person as an approval. It cannot answer by itself: called without
 * a decision it throws ToolApprovalRequired, which a `tool` step turns into `waiting_approval` (the
 * decision becomes the step's output; a denial fails the step). When a decision was made before the
 * call (an agent's approved dangerous call), it returns that decision.
 */
export function humanAskTool(): Tool<
  z.output<ReturnType<typeof input>>,
  z.output<ReturnType<typeof output>>
> {
  return {
    name: "human.ask",
    description:
      "Ask a person a question and wait for their decision (approve or deny, with an optional written answer in `rationale`).",
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    dangerous: true,
    asksForApproval: true,
    async run(request, ctx) {
      if (ctx.approval) {
        const { approved, by, rationale, at } = ctx.approval;
        return { approved, by, at, ...(rationale !== undefined ? { rationale } : {}) };
      }
      throw new ToolApprovalRequired("human.ask", {
        message: request.question,
        approvers: request.approvers,
        ...(request.details !== undefined ? { proposal: request.details } : {}),
      });
    },
  };
}
