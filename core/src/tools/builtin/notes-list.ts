import * as z from "zod/mini";
import { installZodDefaults } from "../../zod-defaults.js";
import { onFirstUse } from "../first-use.js";
import type { Tool } from "../types.js";
import type { RunNotes } from "./notes/store.js";

// English messages and the memoizer, as classic zod installs them, also when classic is not loaded.
installZodDefaults();

const input = onFirstUse(() =>
  z.strictObject({
    prefix: z._default(z.string().check(z.maxLength(200)), ""),
    limit: z._default(z.int().check(z.minimum(1), z.maximum(100)), 50),
    cursor: z.optional(z.string()),
  }),
);
const output = onFirstUse(() =>
  z.strictObject({
    notes: z.array(z.strictObject({ key: z.string(), value: z.json() })),
    cursor: z.optional(z.string()),
  }),
);

/** `notes.list`: this run's notes in key order, optionally under a key prefix, a page at a time. */
export function notesListTool(
  notes: RunNotes,
): Tool<z.output<ReturnType<typeof input>>, z.output<ReturnType<typeof output>>> {
  return {
    name: "notes.list",
    description:
      "List this run's notes (key and value) in key order, optionally only keys starting with prefix; pass the returned cursor for the next page.",
    get input() {
      return input();
    },
    get output() {
      return output();
    },
    async run({ prefix, limit, cursor }, ctx) {
      const page = await notes.list(ctx.runId, prefix, limit, cursor);
      return {
        notes: page.notes.map((note) => ({ key: note.key, value: note.value as z.core.util.JSONType })),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      };
    },
  };
}
