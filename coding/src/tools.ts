import type { Tool } from "@aat/core";
import { z } from "zod";
import { CodingInputError } from "./errors.js";
import { applyPatchOnBranch } from "./git.js";
import { SYMBOL_KINDS } from "./languages/types.js";
import { diffOfEdits, validatePatch, workingTree } from "./patch.js";
import { type RunTestsOptions, runTestsTool } from "./run-tests.js";
import type { CodingService } from "./service.js";
import { normaliseRelativePath } from "./workspace.js";

const repo = z.string().min(1).describe("Repository id, as added to the workspaces");
const range = z.object({ startLine: z.int(), startColumn: z.int(), endLine: z.int(), endColumn: z.int() });
const symbol = z.object({
  path: z.string(),
  name: z.string(),
  kind: z.enum(SYMBOL_KINDS),
  container: z.string().optional(),
  range,
});
const fileChange = z.object({
  path: z.string(),
  status: z.enum(["added", "modified", "deleted"]),
  additions: z.int(),
  deletions: z.int(),
});

/** Most lines one code.read returns; ask again with a later startLine for more. */
export const MAX_READ_LINES = 2_000;

// biome-ignore lint/suspicious/noExplicitAny: a list of tools with different input and output types
type AnyTool = Tool<any, any>;

function tool<I extends z.ZodType, O extends z.ZodType>(
  definition: Omit<Tool<z.output<I>, z.output<O>>, "input" | "output"> & { input: I; output: O },
): AnyTool {
  return definition as unknown as AnyTool;
}

export interface CodingToolsOptions {
  /** Adds `code.run_tests` running this command (off unless given: it runs the repository's code). */
  runTests?: RunTestsOptions;
}

/** The code.* tools over a CodingService. Reading needs `repo.read`; code.apply_patch needs `repo.write`. */
export function codingTools(service: CodingService, options: CodingToolsOptions = {}): AnyTool[] {
  const extra: AnyTool[] = options.runTests ? [runTestsTool(service, options.runTests) as AnyTool] : [];
  return [
    tool({
      name: "code.search",
      description:
        "Ranked full-text search over a repository's file paths, symbol names and content. Returns files with matching symbols and lines.",
      capabilities: ["repo.read"],
      input: z.object({ repo, query: z.string().min(1), limit: z.int().min(1).max(100).default(20) }),
      output: z.object({
        hits: z.array(
          z.object({
            path: z.string(),
            score: z.number(),
            symbols: z.array(z.object({ name: z.string(), kind: z.enum(SYMBOL_KINDS), line: z.int() })),
            lines: z.array(z.object({ line: z.int(), text: z.string() })),
          }),
        ),
      }),
      async run(input) {
        const index = await service.index(input.repo);
        return {
          hits: await index.searchText(await service.workspace(input.repo), input.query, input.limit),
        };
      },
    }),
    tool({
      name: "code.symbols",
      description:
        "Symbols (functions, classes, methods, interfaces, types, variables) with line ranges and containers: of one file, or by name prefix and kind across the repository.",
      capabilities: ["repo.read"],
      input: z.object({
        repo,
        path: z.string().optional(),
        name: z.string().optional(),
        kind: z.enum(SYMBOL_KINDS).optional(),
        limit: z.int().min(1).max(1_000).default(200),
      }),
      output: z.object({ symbols: z.array(symbol) }),
      async run(input) {
        const index = await service.index(input.repo);
        const filter = {
          ...(input.path !== undefined ? { path: normaliseRelativePath(input.path) } : {}),
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.kind !== undefined ? { kind: input.kind } : {}),
          limit: input.limit,
        };
        return { symbols: index.symbols(filter) };
      },
    }),
    tool({
      name: "code.read",
      description: `Read a file, or lines startLine..endLine of it (1-based, inclusive; at most ${MAX_READ_LINES} lines per call).`,
      capabilities: ["repo.read"],
      input: z.object({
        repo,
        path: z.string().min(1),
        startLine: z.int().min(1).default(1),
        endLine: z.int().min(1).optional(),
      }),
      output: z.object({
        path: z.string(),
        startLine: z.int(),
        endLine: z.int(),
        totalLines: z.int(),
        text: z.string(),
      }),
      async run(input) {
        const workspace = await service.workspace(input.repo);
        const file = normaliseRelativePath(input.path);
        const text = await workspace.readText(file);
        const lines = text.split("\n");
        if (text.endsWith("\n")) lines.pop();
        const total = lines.length;
        if (input.startLine > Math.max(total, 1))
          throw new CodingInputError(
            `${file} has ${total} lines; startLine ${input.startLine} is past the end`,
          );
        const end = Math.min(input.endLine ?? total, total, input.startLine + MAX_READ_LINES - 1);
        if (end < input.startLine && total > 0)
          throw new CodingInputError(`endLine ${input.endLine} is before startLine ${input.startLine}`);
        return {
          path: file,
          startLine: input.startLine,
          endLine: end,
          totalLines: total,
          text: lines.slice(input.startLine - 1, end).join("\n"),
        };
      },
    }),
    tool({
      name: "code.references",
      description:
        "Where a name is defined and used across the repository (by name, without type resolution: same-named symbols are all listed).",
      capabilities: ["repo.read"],
      input: z.object({ repo, name: z.string().min(1), limit: z.int().min(1).max(1_000).default(200) }),
      output: z.object({
        definitions: z.array(symbol),
        references: z.array(z.object({ path: z.string(), name: z.string(), line: z.int(), column: z.int() })),
      }),
      async run(input) {
        const index = await service.index(input.repo);
        return index.references(input.name, input.limit);
      },
    }),
    tool({
      name: "code.tree",
      description:
        "The indexed files and directories under a directory (default the root), to a depth. Ignored, binary and oversized files are not listed.",
      capabilities: ["repo.read"],
      input: z.object({ repo, path: z.string().default(""), depth: z.int().min(1).max(20).default(3) }),
      output: z.object({
        entries: z.array(
          z.object({
            path: z.string(),
            type: z.enum(["file", "directory"]),
            lines: z.int().optional(),
            language: z.string().optional(),
          }),
        ),
      }),
      async run(input) {
        const index = await service.index(input.repo);
        const dir = normaliseRelativePath(input.path);
        const prefix = dir === "" ? "" : `${dir}/`;
        const entries = new Map<
          string,
          { path: string; type: "file" | "directory"; lines?: number; language?: string }
        >();
        for (const file of index.paths()) {
          if (!file.startsWith(prefix)) continue;
          const parts = file.slice(prefix.length).split("/");
          for (let depth = 1; depth <= Math.min(parts.length, input.depth); depth++) {
            const entryPath = prefix + parts.slice(0, depth).join("/");
            if (entries.has(entryPath)) continue;
            if (depth === parts.length) {
              const info = index.file(file)!;
              entries.set(entryPath, {
                path: entryPath,
                type: "file",
                lines: info.lines,
                ...(info.language ? { language: info.language } : {}),
              });
            } else entries.set(entryPath, { path: entryPath, type: "directory" });
          }
        }
        if (dir !== "" && entries.size === 0)
          throw new CodingInputError(`repository ${input.repo} has no indexed directory ${dir}`, "not_found");
        return {
          entries: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
        };
      },
    }),
    tool({
      name: "code.propose_patch",
      description:
        "Propose a change for review: either a unified diff (--- a/path, +++ b/path, @@ hunks) or whole-file edits (content null deletes). The diff is checked to apply cleanly to the current files and to stay inside the repository; nothing is written.",
      capabilities: ["repo.read"],
      input: z
        .object({
          repo,
          diff: z.string().min(1).optional(),
          edits: z
            .array(z.object({ path: z.string().min(1), content: z.string().nullable() }))
            .min(1)
            .optional(),
        })
        .refine((v) => (v.diff === undefined) !== (v.edits === undefined), {
          message: "give exactly one of diff or edits",
        }),
      output: z.object({ diff: z.string(), files: z.array(fileChange) }),
      async run(input) {
        const workspace = await service.workspace(input.repo);
        const read = workingTree(workspace);
        const diff = input.diff ?? (await diffOfEdits(workspace, input.edits ?? [], read));
        const validated = await validatePatch(workspace, diff, read);
        return {
          diff,
          files: validated.files.map(({ path, status, additions, deletions }) => ({
            path,
            status,
            additions,
            deletions,
          })),
        };
      },
    }),
    tool({
      name: "code.apply_patch",
      description:
        "Apply a reviewed unified diff as a commit on a new branch from HEAD (the working tree and the checked-out branch are not touched). Needs a person's approval.",
      capabilities: ["repo.write"],
      dangerous: true,
      timeoutMs: 60_000,
      input: z.object({
        repo,
        diff: z.string().min(1),
        branch: z.string().min(1).optional(),
        message: z.string().min(1).optional(),
      }),
      output: z.object({
        branch: z.string(),
        base: z.string(),
        commit: z.string(),
        files: z.array(fileChange),
        stat: z.string(),
      }),
      async run(input, ctx) {
        const workspace = await service.workspace(input.repo);
        const message =
          input.message ?? (ctx.approval ? `aat: patch approved by ${ctx.approval.by}` : undefined);
        return applyPatchOnBranch(workspace, {
          diff: input.diff,
          ...(input.branch !== undefined ? { branch: input.branch } : {}),
          ...(message !== undefined ? { message } : {}),
        });
      },
    }),
    ...extra,
  ];
}
