import * as z from "zod/mini";
import { installZodDefaults } from "../zod-defaults.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

/** Bodies of the messages the runner puts on the Queue; validated when received. */
export const workMessage = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("execute"),
    runId: z.string().check(z.minLength(1)),
    key: z.string().check(z.minLength(1)),
    stepId: z.string().check(z.minLength(1)),
    attempt: z.number().check(z.int(), z.minimum(1)),
    /** The n-th execution of this attempt after an approval (agent steps); absent for the first. */
    resume: z.optional(z.number().check(z.int(), z.minimum(1))),
  }),
  z.strictObject({
    kind: z.literal("timer"),
    runId: z.string().check(z.minLength(1)),
    timerId: z.string().check(z.minLength(1)),
  }),
]);
export type WorkMessage = z.output<typeof workMessage>;
