import { MemoryKeyValue } from "@aat/adapter-memory";
import { describe, expect, it } from "vitest";
import { type NotesOptions, RunNotes } from "../../src/tools/builtin/notes/store.js";
import { notesGetTool } from "../../src/tools/builtin/notes-get.js";
import { notesListTool } from "../../src/tools/builtin/notes-list.js";
import { notesPutTool } from "../../src/tools/builtin/notes-put.js";
import { callTool } from "../../src/tools/call.js";
import { type ToolError, ToolInputError } from "../../src/tools/errors.js";
import { callContext } from "./helpers.js";

function notesTools(options: Partial<NotesOptions> = {}) {
  const kv = new MemoryKeyValue();
  const notes = new RunNotes({ kv, ...options });
  return { kv, put: notesPutTool(notes), get: notesGetTool(notes), list: notesListTool(notes) };
}

const run1 = callContext({ runId: "run-1" });
const run2 = callContext({ runId: "run-2" });

describe("notes.put / notes.get / notes.list", () => {
  it("keeps JSON values per run under notes/<runId>/<key>", async () => {
    const { kv, put, get } = notesTools();
    expect(await callTool(put, { key: "ioc/ip", value: { ip: "6.6.6.6", score: 90 } }, run1)).toEqual({
      key: "ioc/ip",
      created: true,
      bytes: 27,
    });
    expect(await callTool(put, { key: "ioc/ip", value: [1, 2] }, run1)).toMatchObject({ created: false });
    expect(await callTool(get, { key: "ioc/ip" }, run1)).toEqual({
      key: "ioc/ip",
      found: true,
      value: [1, 2],
    });
    expect((await kv.get("notes/run-1/ioc/ip"))?.value).toEqual([1, 2]);
    expect(await callTool(get, { key: "ioc/ip" }, run2)).toEqual({
      key: "ioc/ip",
      found: false,
      value: null,
    });
  });

  it("lists a run's notes in key order, by prefix, a page at a time, never another run's", async () => {
    const { put, list } = notesTools();
    for (const key of ["b", "a/2", "a/1", "c"]) await callTool(put, { key, value: key }, run1);
    await callTool(put, { key: "a/3", value: "other run" }, run2);
    // A run whose id extends another's must not show up under it.
    await callTool(put, { key: "x", value: "nested id" }, callContext({ runId: "run-1/child" }));
    const all = (await callTool(list, {}, run1)) as { notes: Array<{ key: string }> };
    expect(all.notes.map((n) => n.key)).toEqual(["a/1", "a/2", "b", "c"]);
    const first = (await callTool(list, { prefix: "a/", limit: 1 }, run1)) as {
      notes: unknown[];
      cursor?: string;
    };
    expect(first.notes).toEqual([{ key: "a/1", value: "a/1" }]);
    expect(first.cursor).toBeDefined();
    const second = (await callTool(list, { prefix: "a/", limit: 1, cursor: first.cursor }, run1)) as {
      notes: unknown[];
    };
    expect(second.notes).toEqual([{ key: "a/2", value: "a/2" }]);
  });

  it("refuses values over the size limit and keys beyond the per-run count", async () => {
    const { put } = notesTools({ maxValueBytes: 20, maxNotesPerRun: 2 });
    const big = (await callTool(put, { key: "k", value: "x".repeat(30) }, run1).catch(
      (e: unknown) => e,
    )) as ToolError;
    expect(big).toMatchObject({ code: "note_too_large", retryable: false });
    expect(big.message).toBe('note "k" is 32 bytes as JSON; notes may be at most 20 bytes');
    await callTool(put, { key: "one", value: 1 }, run1);
    await callTool(put, { key: "two", value: 2 }, run1);
    await callTool(put, { key: "two", value: 22 }, run1); // overwriting does not count
    const third = (await callTool(put, { key: "three", value: 3 }, run1).catch(
      (e: unknown) => e,
    )) as ToolError;
    expect(third).toMatchObject({ code: "too_many_notes", retryable: false });
    expect(await callTool(put, { key: "three", value: 3 }, run2)).toMatchObject({ created: true });
  });

  it("counts concurrent first writes of one key once", async () => {
    const { put } = notesTools({ maxNotesPerRun: 2 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => callTool(put, { key: "same", value: i }, run1)));
    expect(await callTool(put, { key: "other", value: 1 }, run1)).toMatchObject({ created: true });
  });

  it("names the bad fields of a bad key", async () => {
    const { put } = notesTools();
    const error = (await callTool(put, { key: "../etc", value: 1 }, run1).catch(
      (e: unknown) => e,
    )) as ToolInputError;
    expect(error).toBeInstanceOf(ToolInputError);
    expect(error.issues).toEqual([
      { path: "key", message: "must start with a letter or digit and use letters, digits and . _ : / -" },
    ]);
  });
});
