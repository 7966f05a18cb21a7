import * as z from "zod/mini";
import { installZodDefaults } from "../../zod-defaults.js";
import { onFirstUse } from "../first-use.js";
import type { Tool } from "../types.js";
import { noteKeySchema, type RunNotes } from "./notes/store.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

const input = onFirstUse(() => z.strictObject({ key: noteKeySchema, value: z.json() }));
const output = onFirstUse(() => z.strictObject({ key: z.string(), created: z.boolean(), bytes: z.int() }));

/** `notes.put`: keep a JSON value under a key for the rest of this run (overwrites). */
export function notesPutTool(
  notes: RunNotes,
): Tool<z.output<ReturnType<typeof input>>, z.output<ReturnType<typeof output>>> {
  return {
    name: "notes.put",
    description: `Save a JSON value under a key for later steps of this run (overwrites the key). At most ${notes.maxValueBytes} bytes per note and ${notes.maxNotesPerRun} notes per run.`,
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    async run({ key, value }, ctx) {
      const { created, bytes } = await notes.put(ctx.runId, key, value);
      return { key, created, bytes };
    },
  };
}
