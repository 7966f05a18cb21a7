import * as z from "zod/mini";
import { installZodDefaults } from "../../zod-defaults.js";
import { onFirstUse } from "../first-use.js";
import type { Tool } from "../types.js";
import { noteKeySchema, type RunNotes } from "./notes/store.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

const input = onFirstUse(() => z.strictObject({ key: noteKeySchema }));
const output = onFirstUse(() =>
  z.strictObject({ key: z.string(), found: z.boolean(), value: z.nullable(z.json()) }),
);

/** `notes.get`: read a note of this run; `found: false` (value null) when there is none. */
export function notesGetTool(
  notes: RunNotes,
): Tool<z.output<ReturnType<typeof input>>, z.output<ReturnType<typeof output>>> {
  return {
    name: "notes.get",
    description: "Read a note saved earlier in this run with notes.put; found is false when there is none.",
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    async run({ key }, ctx) {
      const { found, value } = await notes.get(ctx.runId, key);
      return { key, found, value: value as z.core.util.JSONType };
    },
  };
}
