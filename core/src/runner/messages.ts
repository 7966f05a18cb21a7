import { z } from "zod";

/** Bodies of the messages the runner puts on the Queue; validated when received. */
export const workMessage = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("execute"),
    runId: z.string().min(1),
    key: z.string().min(1),
    stepId: z.string().min(1),
    attempt: z.number().int().min(1),
    /** The n-th execution of this attempt after an approval (agent steps); absent for the first. */
    resume: z.number().int().min(1).optional(),
  }),
  z.strictObject({ kind: z.literal("timer"), runId: z.string().min(1), timerId: z.string().min(1) }),
]);
export type WorkMessage = z.output<typeof workMessage>;
