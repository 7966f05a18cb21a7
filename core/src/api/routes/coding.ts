import { createRoute } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { PlanNotFoundError } from "../../runner/errors.js";
import { ToolError } from "../../tools/errors.js";
import { collectRunDiffs, type RunDiff } from "../../workflows/coding/diffs.js";
import type { CodingApiDeps } from "../../workflows/coding/port.js";
import { type ApiApp, type ApiContext, runLinks } from "../context.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";
import { checkApprover, waitingStep } from "./approvals.js";
import { runNotFound } from "./runs.js";

/** The plans POST /v1/coding/runs starts, by task (plans/coding/). */
export const CODING_PLAN_IDS = {
  explain: "coding.explain",
  change: "coding.change",
  "fix-test": "coding.fix-test",
} as const;

const tags = ["coding"];
/** Reading code: the roles that work with repositories. */
const READERS = allowRoles("developer", "responder", "analyst", "viewer");
/** Adding, indexing and deleting repositories, asking the agent and applying its diffs. */
const DEVELOPERS = allowRoles("developer");

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const repoId = z
  .string()
  .regex(REPO_ID, 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .meta({ description: "Repository id: names it in tool calls, URLs and storage keys.", example: "shop" });
const idParams = z.object({ id: repoId });
const SYMBOL_KINDS = ["function", "class", "method", "interface", "type", "variable"] as const;
const int = () => z.coerce.number().int();

const sourceSchema = z
  .discriminatedUnion("kind", [
    z.strictObject({
      kind: z.literal("local"),
      path: z.string().min(1).max(4096).meta({
        description: "A directory inside coding.workspaceRoot: absolute, or relative to that root.",
      }),
    }),
    z.strictObject({
      kind: z.literal("git"),
      url: z.string().min(1).max(2048).meta({
        description:
          "https:// or ssh (user@host:path) URL on an allowed host (coding.git); cloned into the workspace root.",
        example: "https://github.com/octocat/Hello-World.git",
      }),
      ref: z
        .string()
        .min(1)
        .max(250)
        .optional()
        .meta({ description: "Branch, tag or commit to check out; default the remote's default branch." }),
    }),
  ])
  .meta({ id: "CodingRepositorySource" });

const indexSummarySchema = z.object({
  status: z.enum(["none", "indexing", "ready", "failed"]),
  indexedAt: z.number().optional().meta({ description: "Epoch ms of the last finished index run." }),
  files: z.number().int().optional(),
  error: z.string().optional(),
});

const repositorySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    source: sourceSchema,
    createdAt: z.number(),
    head: z.string().optional().meta({ description: "The commit checked out (git work trees)." }),
    index: indexSummarySchema,
  })
  .meta({ id: "CodingRepository" });

const jobSchema = z
  .object({
    id: z.string(),
    repo: z.string(),
    status: z.enum(["running", "succeeded", "failed"]),
    startedAt: z.number(),
    finishedAt: z.number().optional(),
    progress: z.object({ seen: z.number().int(), indexed: z.number().int(), path: z.string().optional() }),
    stats: z
      .object({
        files: z.number().int(),
        indexed: z.number().int(),
        unchanged: z.number().int(),
        removed: z.number().int(),
        skippedBinary: z.number().int(),
        skippedTooLarge: z.number().int(),
        lines: z.number().int(),
        bytes: z.number().int(),
      })
      .optional(),
    error: z.string().optional(),
  })
  .meta({ id: "CodingIndexJob" });

const rangeSchema = z.object({
  startLine: z.number().int(),
  startColumn: z.number().int(),
  endLine: z.number().int(),
  endColumn: z.number().int(),
});
const symbolSchema = z
  .object({
    path: z.string(),
    name: z.string(),
    kind: z.enum(SYMBOL_KINDS),
    container: z.string().optional(),
    range: rangeSchema.meta({ description: "1-based lines, 0-based columns." }),
  })
  .meta({ id: "CodingSymbol" });

const searchHitSchema = z
  .object({
    path: z.string(),
    score: z.number(),
    symbols: z.array(z.object({ name: z.string(), kind: z.enum(SYMBOL_KINDS), line: z.number().int() })),
    lines: z.array(z.object({ line: z.number().int(), text: z.string() })),
  })
  .meta({ id: "CodingSearchHit" });

const fileSliceSchema = z
  .object({
    path: z.string(),
    startLine: z.number().int(),
    endLine: z.number().int(),
    totalLines: z.number().int(),
    text: z.string(),
    language: z.string().optional(),
  })
  .meta({ id: "CodingFileSlice" });

const treeEntrySchema = z
  .object({
    path: z.string(),
    type: z.enum(["file", "directory"]),
    lines: z.number().int().optional(),
    language: z.string().optional(),
  })
  .meta({ id: "CodingTreeEntry" });

const diffFileSchema = z.object({
  path: z.string(),
  status: z.enum(["added", "modified", "deleted"]),
  additions: z.number().int(),
  deletions: z.number().int(),
});

const runDiffSchema = z
  .object({
    id: z.string().meta({ description: "The step key, with #<callId> for a call made by an agent step." }),
    stepKey: z.string(),
    origin: z.enum(["agent_call", "tool_step"]),
    callId: z.string().optional(),
    repo: z.string().optional(),
    status: z.enum(["proposed", "awaiting_approval", "applied", "rejected", "failed"]),
    diff: z.string().meta({ description: "Unified diff (git-style a/ b/ names)." }),
    files: z.array(diffFileSchema).optional(),
    applied: z
      .object({ branch: z.string(), base: z.string(), commit: z.string(), stat: z.string() })
      .optional(),
    decision: z
      .object({ approved: z.boolean(), by: z.string(), rationale: z.string().optional() })
      .optional(),
    error: z.string().optional(),
  })
  .meta({ id: "CodingRunDiff" });

const addBody = z
  .strictObject({ id: repoId, name: z.string().min(1).max(200).optional(), source: sourceSchema })
  .meta({ id: "CodingRepositoryInput" });

const searchQuery = z.object({
  q: z.string().trim().min(1, "must not be empty: give words, identifiers or a path").max(500),
  limit: int().min(1).max(100).default(20),
});
const symbolsQuery = z.object({
  path: z.string().min(1).max(4096).optional().meta({ description: "The symbols of this file." }),
  name: z.string().min(1).max(200).optional().meta({ description: "Name prefix, across the repository." }),
  kind: z.enum(SYMBOL_KINDS).optional(),
  limit: int().min(1).max(1000).default(200),
});
const referencesQuery = z.object({
  name: z.string().min(1).max(200),
  limit: int().min(1).max(1000).default(200),
});
const fileQuery = z.object({
  path: z.string().min(1).max(4096),
  startLine: int().min(1).default(1),
  endLine: int().min(1).optional(),
});
const treeQuery = z.object({
  path: z.string().max(4096).default(""),
  depth: int().min(1).max(20).default(3),
});

const runBody = z
  .strictObject({
    repo: repoId,
    task: z.enum(["explain", "change", "fix-test"]).meta({
      description:
        "explain: answer a question with cited files and lines; change: plan an edit, propose a diff and apply it after approval; fix-test: locate the cause of a failing test and propose a fix.",
    }),
    prompt: z.string().trim().min(1, "must not be empty: ask a question or describe the change").max(8000),
    testOutput: z
      .string()
      .max(50_000)
      .optional()
      .meta({ description: "fix-test: the failing test's output (required for that task)." }),
  })
  .superRefine((body, ctx) => {
    if (body.task === "fix-test" && !body.testOutput?.trim())
      ctx.addIssue({
        code: "custom",
        path: ["testOutput"],
        message: "missing: the fix-test task needs the failing test's output",
      });
  })
  .meta({ id: "CodingRunInput" });

const runStarted = z
  .object({
    runId: z.string(),
    status: z.string(),
    plan: z.object({ id: z.string(), version: z.number().int() }),
    offline: z
      .boolean()
      .meta({ description: "Only the offline model is configured: answers come from the index alone." }),
    links: z.object({ self: z.string(), events: z.string(), cancel: z.string(), diffs: z.string() }),
  })
  .meta({ id: "CodingRunStarted" });

const runParams = z.object({ runId: z.string().min(1).max(200) });
const diffParams = z.object({
  runId: z.string().min(1).max(200),
  diffId: z.string().min(1).max(500).meta({ description: "The diff's id, URL-encoded." }),
});
const decisionBody = z
  .strictObject({ rationale: z.string().max(2000).optional() })
  .meta({ id: "CodingDiffDecision" });

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const repoPath = "/v1/coding/repositories/{id}";

const addRepository = createRoute({
  method: "post",
  path: "/v1/coding/repositories",
  tags,
  summary: "Add a repository (local directory or git URL) and start indexing it",
  description:
    "A local source must lie inside coding.workspaceRoot (after resolving symbolic links); a git source is cloned there, on an allowed scheme and host (coding.git). Indexing runs in the background: poll GET …/index.",
  ...DEVELOPERS,
  request: { body: { required: true, content: { "application/json": { schema: addBody } } } },
  responses: {
    201: json(z.object({ repository: repositorySchema, job: jobSchema }), "Added; the index job started."),
    ...problems(...AUTH_PROBLEMS, 400, 409, 415, 422),
  },
});
const listRepositories = createRoute({
  method: "get",
  path: "/v1/coding/repositories",
  tags,
  summary: "List repositories",
  ...READERS,
  responses: {
    200: json(z.object({ items: z.array(repositorySchema) }), "The repositories."),
    ...problems(...AUTH_PROBLEMS),
  },
});
const getRepository = createRoute({
  method: "get",
  path: repoPath,
  tags,
  summary: "Read a repository and its index status",
  ...READERS,
  request: { params: idParams },
  responses: { 200: json(repositorySchema, "The repository."), ...problems(...AUTH_PROBLEMS, 400, 404) },
});
const deleteRepository = createRoute({
  method: "delete",
  path: repoPath,
  tags,
  summary:
    "Forget a repository and its index (a clone made by the server is removed; a local directory is left alone)",
  ...DEVELOPERS,
  request: { params: idParams },
  responses: { 204: { description: "Deleted." }, ...problems(...AUTH_PROBLEMS, 400, 404) },
});
const startIndex = createRoute({
  method: "post",
  path: `${repoPath}/index`,
  tags,
  summary: "Re-index (only new and changed files are parsed); joins a running job",
  ...DEVELOPERS,
  request: { params: idParams },
  responses: { 202: json(jobSchema, "The index job."), ...problems(...AUTH_PROBLEMS, 400, 404) },
});
const getIndex = createRoute({
  method: "get",
  path: `${repoPath}/index`,
  tags,
  summary: "The running or last index job: progress while it runs, the counts when done",
  ...READERS,
  request: { params: idParams },
  responses: { 200: json(jobSchema, "The job."), ...problems(...AUTH_PROBLEMS, 400, 404) },
});
const indexEvents = createRoute({
  method: "get",
  path: `${repoPath}/index/events`,
  tags,
  summary: "Stream the index job's progress (server-sent events)",
  description:
    "A `progress` message (data: the IndexJob) when the running job's counts change, checked every `intervalMs` (default 250), then one `end` message with the finished job, and the stream closes. With no job running it sends `end` with the last job at once. EventSource reconnects by itself; a reconnect simply starts from the current state.",
  ...READERS,
  request: {
    params: idParams,
    query: z.object({ intervalMs: int().min(50).max(10_000).default(250) }),
  },
  responses: {
    200: {
      description: "An event stream of IndexJob messages.",
      content: { "text/event-stream": { schema: jobSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});

const search = createRoute({
  method: "get",
  path: `${repoPath}/search`,
  tags,
  summary: "Ranked search over file paths, symbol names and content",
  ...READERS,
  request: { params: idParams, query: searchQuery },
  responses: {
    200: json(
      z.object({ items: z.array(searchHitSchema) }),
      "Files, best first, with matching symbols and lines.",
    ),
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});
const symbols = createRoute({
  method: "get",
  path: `${repoPath}/symbols`,
  tags,
  summary: "Symbols of a file (path) or by name prefix across the repository",
  ...READERS,
  request: { params: idParams, query: symbolsQuery },
  responses: {
    200: json(z.object({ items: z.array(symbolSchema) }), "The symbols."),
    ...problems(...AUTH_PROBLEMS, 400, 404, 422),
  },
});
const references = createRoute({
  method: "get",
  path: `${repoPath}/references`,
  tags,
  summary: "Definitions and uses of a name (by name, without type resolution)",
  ...READERS,
  request: { params: idParams, query: referencesQuery },
  responses: {
    200: json(
      z
        .object({
          definitions: z.array(symbolSchema),
          references: z.array(
            z.object({
              path: z.string(),
              name: z.string(),
              line: z.number().int(),
              column: z.number().int(),
            }),
          ),
        })
        .meta({ id: "CodingReferences" }),
      "Definitions and references.",
    ),
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});
const readFile = createRoute({
  method: "get",
  path: `${repoPath}/file`,
  tags,
  summary: "Read a file or a range of its lines (1-based, inclusive; at most 2,000 lines)",
  ...READERS,
  request: { params: idParams, query: fileQuery },
  responses: {
    200: json(fileSliceSchema, "The lines."),
    ...problems(...AUTH_PROBLEMS, 400, 404, 422),
  },
});
const tree = createRoute({
  method: "get",
  path: `${repoPath}/tree`,
  tags,
  summary: "Indexed files and directories under a directory, to a depth",
  ...READERS,
  request: { params: idParams, query: treeQuery },
  responses: {
    200: json(z.object({ entries: z.array(treeEntrySchema) }), "The entries, sorted by path."),
    ...problems(...AUTH_PROBLEMS, 400, 404, 422),
  },
});
const startRun = createRoute({
  method: "post",
  path: "/v1/coding/runs",
  tags,
  summary: "Ask the coding agent about a repository: explain, change or fix-test",
  description:
    "Starts a run of coding.explain, coding.change or coding.fix-test. Follow it with GET /v1/runs/{id} (or its event stream); a change waits for approval of its diff (GET …/diffs, then …/apply or …/reject).",
  ...DEVELOPERS,
  request: { body: { required: true, content: { "application/json": { schema: runBody } } } },
  responses: {
    202: json(runStarted, "The run started."),
    ...problems(...AUTH_PROBLEMS, 400, 404, 415, 422, 503),
  },
});
const listDiffs = createRoute({
  method: "get",
  path: "/v1/coding/runs/{runId}/diffs",
  tags,
  summary: "The diffs of a run: proposed, waiting for approval, applied or rejected",
  ...READERS,
  request: { params: runParams },
  responses: {
    200: json(
      z
        .object({ runId: z.string(), runStatus: z.string(), items: z.array(runDiffSchema) })
        .meta({ id: "CodingRunDiffs" }),
      "The diffs, oldest first.",
    ),
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});

function decisionRoute(action: "apply" | "reject") {
  return createRoute({
    method: "post",
    path: `/v1/coding/runs/{runId}/diffs/{diffId}/${action}`,
    tags,
    summary:
      action === "apply"
        ? "Apply a diff waiting for approval (approves the run's code.apply_patch call)"
        : "Reject a diff waiting for approval (refuses the run's code.apply_patch call)",
    description:
      "Only a diff with status awaiting_approval can be decided (409 otherwise). The decision is the run's approval of its code.apply_patch call, recorded with the caller's identity; the patch is then committed on a new branch and the run moves on.",
    ...DEVELOPERS,
    request: {
      params: diffParams,
      body: { required: false, content: { "application/json": { schema: decisionBody } } },
    },
    responses: {
      200: json(
        z.object({ runId: z.string(), status: z.string(), version: z.number().int(), diff: runDiffSchema }),
        "The decision is recorded; the run moved on.",
      ),
      ...problems(...AUTH_PROBLEMS, 400, 404, 409, 415, 422),
    },
  });
}

/** The coding routes (docs/workflows-coding.md); mounted when the API is given coding deps. */
export function registerCodingRoutes(app: ApiApp, ctx: ApiContext, coding: CodingApiDeps): void {
  const { runner } = ctx.deps;
  const repoOrThrow = async (id: string) => {
    const repository = await mapped(() => coding.getRepository(id));
    if (!repository) throw repoNotFound(id);
    return repository;
  };

  app.openapi(addRepository, async (c) => {
    const body = c.req.valid("json");
    c.set("audit", { target: `repository:${body.id}`, details: { source: body.source.kind } });
    const added = await mapped(() =>
      coding.addRepository({
        id: body.id,
        ...(body.name !== undefined ? { name: body.name } : {}),
        source: body.source,
      }),
    );
    return c.json(added, 201, { Location: `/v1/coding/repositories/${encodeURIComponent(body.id)}` });
  });
  app.openapi(listRepositories, async (c) => c.json({ items: await coding.listRepositories() }, 200));
  app.openapi(getRepository, async (c) => c.json(await repoOrThrow(c.req.valid("param").id), 200));
  app.openapi(deleteRepository, async (c) => {
    const { id } = c.req.valid("param");
    c.set("audit", { target: `repository:${id}` });
    if (!(await mapped(() => coding.deleteRepository(id)))) throw repoNotFound(id);
    return c.body(null, 204);
  });
  app.openapi(startIndex, async (c) => {
    const { id } = c.req.valid("param");
    c.set("audit", { target: `repository:${id}` });
    return c.json(await mapped(() => coding.reindex(id)), 202);
  });
  app.openapi(getIndex, async (c) => {
    const { id } = c.req.valid("param");
    await repoOrThrow(id);
    const job = await coding.indexJob(id);
    if (!job)
      throw new ApiProblem(404, {
        kind: "not-found",
        detail: `repository "${id}" has no index job yet; POST /v1/coding/repositories/${id}/index starts one`,
      });
    return c.json(job, 200);
  });
  app.openapi(indexEvents, async (c) => {
    const { id } = c.req.valid("param");
    const { intervalMs } = c.req.valid("query");
    await repoOrThrow(id);
    const first = await coding.indexJob(id);
    if (!first)
      throw new ApiProblem(404, {
        kind: "not-found",
        detail: `repository "${id}" has no index job yet; POST /v1/coding/repositories/${id}/index starts one`,
      });
    return streamSSE(c, async (stream) => {
      let job = first;
      let last = "";
      while (!stream.aborted && !stream.closed) {
        if (job.status !== "running") {
          await stream.writeSSE({ event: "end", data: JSON.stringify(job) });
          return;
        }
        const text = JSON.stringify(job);
        if (text !== last) await stream.writeSSE({ event: "progress", data: text });
        last = text;
        await stream.sleep(intervalMs);
        job = (await coding.indexJob(id)) ?? {
          ...job,
          status: "failed",
          error: "the repository was deleted",
        };
      }
    });
  });
  app.openapi(search, async (c) => {
    const { id } = c.req.valid("param");
    const { q, limit } = c.req.valid("query");
    return c.json({ items: await mapped(() => coding.search(id, q, limit)) }, 200);
  });
  app.openapi(symbols, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const filter = {
      limit: query.limit,
      ...(query.path !== undefined ? { path: query.path } : {}),
      ...(query.name !== undefined ? { name: query.name } : {}),
      ...(query.kind !== undefined ? { kind: query.kind } : {}),
    };
    return c.json({ items: await mapped(() => coding.symbols(id, filter)) }, 200);
  });
  app.openapi(references, async (c) => {
    const { id } = c.req.valid("param");
    const { name, limit } = c.req.valid("query");
    return c.json(await mapped(() => coding.references(id, name, limit)), 200);
  });
  app.openapi(readFile, async (c) => {
    const { id } = c.req.valid("param");
    const { path, startLine, endLine } = c.req.valid("query");
    return c.json(await mapped(() => coding.read(id, path, startLine, endLine)), 200);
  });
  app.openapi(tree, async (c) => {
    const { id } = c.req.valid("param");
    const { path, depth } = c.req.valid("query");
    return c.json({ entries: await mapped(() => coding.tree(id, path, depth)) }, 200);
  });

  app.openapi(startRun, async (c) => {
    const body = c.req.valid("json");
    await repoOrThrow(body.repo);
    const offline = coding.offline();
    const planId = CODING_PLAN_IDS[body.task];
    let started: Awaited<ReturnType<typeof ctx.starter.start>>;
    try {
      started = await ctx.starter.start(
        {
          planId,
          input: {
            repo: body.repo,
            prompt: body.prompt,
            offline,
            ...(body.testOutput !== undefined ? { testOutput: body.testOutput } : {}),
          },
        },
        c.get("principal").id,
      );
    } catch (error) {
      if (error instanceof PlanNotFoundError && error.planId === planId)
        throw new ApiProblem(503, {
          kind: "coding-plan-missing",
          detail: `the plan "${planId}" is not loaded on this server: add the shipped plans folder (plans/) to plans.directories or publish plans/coding/${body.task}.yaml`,
        });
      throw error;
    }
    c.set("audit", { target: `run:${started.runId}`, details: { repo: body.repo, planId } });
    const links = {
      ...runLinks(started.runId),
      diffs: `/v1/coding/runs/${encodeURIComponent(started.runId)}/diffs`,
    };
    return c.json(
      {
        runId: started.runId,
        status: started.state.status,
        plan: { id: started.state.plan.id, version: started.state.plan.version },
        offline,
        links,
      },
      202,
      { Location: links.self },
    );
  });

  const diffsOf = async (runId: string) => {
    const state = await runner.load(runId);
    if (!state) throw runNotFound(runId);
    const events = [];
    for (let after = 0; ; ) {
      const page = await runner.store.listLog(runId, after, 500);
      events.push(...page);
      if (page.length < 500) break;
      after = page.at(-1)!.seq;
    }
    return { state, diffs: collectRunDiffs(state, events) };
  };

  app.openapi(listDiffs, async (c) => {
    const { runId } = c.req.valid("param");
    const { state, diffs } = await diffsOf(runId);
    return c.json({ runId, runStatus: state.status, items: diffs }, 200);
  });

  for (const action of ["apply", "reject"] as const) {
    app.openapi(decisionRoute(action), async (c) => {
      const { runId, diffId } = c.req.valid("param");
      const body = (c.req.valid("json") ?? {}) as { rationale?: string };
      const principal = c.get("principal");
      c.set("audit", { target: `run:${runId}/diff:${diffId}`, details: { decision: action } });
      const { state, diffs } = await diffsOf(runId);
      const diff = diffs.find((d) => d.id === diffId);
      if (!diff) throw diffNotFound(runId, diffId, diffs);
      if (diff.status !== "awaiting_approval")
        throw new ApiProblem(409, {
          kind: "diff-not-awaiting-approval",
          detail: `diff "${diffId}" of run "${runId}" is ${diff.status}; only a diff awaiting approval can be applied or rejected`,
          extra: { runId, diffId, currentStatus: diff.status },
        });
      const step = waitingStep(state, diff.stepKey);
      checkApprover(step, principal);
      const decision =
        action === "apply"
          ? await runner.approve(runId, diff.stepKey, principal.id, body.rationale)
          : await runner.reject(runId, diff.stepKey, principal.id, body.rationale);
      if (!decision.accepted)
        throw new ApiProblem(409, {
          kind: "diff-not-awaiting-approval",
          detail: `diff "${diffId}" of run "${runId}" was decided meanwhile (step ${diff.stepKey} is ${decision.state.steps[diff.stepKey]?.status ?? "unknown"})`,
          extra: { runId, diffId },
        });
      return c.json({ runId, status: decision.state.status, version: decision.state.version, diff }, 200);
    });
  }
}

function repoNotFound(id: string): ApiProblem {
  return new ApiProblem(404, {
    kind: "not-found",
    detail: `no repository "${id}"; GET /v1/coding/repositories lists them, POST adds one`,
  });
}

function diffNotFound(runId: string, diffId: string, diffs: RunDiff[]): ApiProblem {
  return new ApiProblem(404, {
    kind: "not-found",
    detail: `run "${runId}" has no diff "${diffId}"${diffs.length > 0 ? `; its diffs: ${diffs.map((d) => d.id).join(", ")}` : " (it proposed none)"}`,
    extra: { runId, diffs: diffs.map((d) => d.id) },
  });
}

const STATUS_OF_CODE: Record<string, number> = { not_found: 404, conflict: 409 };

/** Turns the coding workflow's errors (ToolErrors with a code) into problems with the message. */
async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ToolError) {
      const status = STATUS_OF_CODE[error.code] ?? 422;
      throw new ApiProblem(status, {
        kind: status === 404 ? "not-found" : status === 409 ? "conflict" : error.code.replaceAll("_", "-"),
        detail: error.message,
        extra: { code: error.code },
      });
    }
    throw error;
  }
}
