import { type AatClient, type Schema, unwrap } from "@aat/sdk";

// The coding page's calls through the SDK client (same auth, same problem+json errors). The plans'
// run outputs (coding.explain, coding.change) are not in the OpenAPI document, so their shapes are here.

export type Repository = Schema<"CodingRepository">;
export type RepositorySource = Schema<"CodingRepositorySource">;
export type IndexJob = Schema<"CodingIndexJob">;
export type SearchHit = Schema<"CodingSearchHit">;
export type CodeSymbol = Schema<"CodingSymbol">;
export type FileSlice = Schema<"CodingFileSlice">;
export type TreeEntry = Schema<"CodingTreeEntry">;
export type RunDiff = Schema<"CodingRunDiff">;
export type RunDiffs = Schema<"CodingRunDiffs">;

/** plans/coding/explain.yaml's outputs. */
export interface ExplainOutput {
  mode: "model" | "offline";
  answer: string;
  citations?: Array<{ path: string; startLine: number; endLine: number; note?: string }>;
}

/** plans/coding/change.yaml's outputs. */
export interface ChangeOutput {
  mode: "model" | "offline";
  status: "applied" | "rejected" | "failed" | "refused" | "not_attempted";
  summary: string;
  diff?: string;
  files?: Array<{ path: string; status: string; additions: number; deletions: number }>;
  branch?: string;
  commit?: string;
  stat?: string;
}

/** plans/coding/fix-test.yaml's outputs (a proposal only: fix-test never writes). */
export interface FixTestOutput {
  mode: "model" | "offline";
  status: "proposed" | "refused" | "not_attempted";
  cause?: string;
  locations?: Array<{ path: string; line: number; note?: string }>;
  diff?: string;
  files?: Array<{ path: string; status: string; additions: number; deletions: number }>;
  error?: string;
}

const repo = (id: string) => ({ params: { path: { id } } });

export async function listRepositories(client: AatClient): Promise<Repository[]> {
  return (await unwrap(client.api.GET("/v1/coding/repositories"))).items;
}

export async function addRepository(
  client: AatClient,
  body: { id: string; name?: string; source: RepositorySource },
): Promise<{ repository: Repository; job: IndexJob }> {
  return unwrap(client.api.POST("/v1/coding/repositories", { body }));
}

export async function deleteRepository(client: AatClient, id: string): Promise<void> {
  await unwrap(client.api.DELETE("/v1/coding/repositories/{id}", repo(id)));
}

export async function getRepository(client: AatClient, id: string): Promise<Repository> {
  return unwrap(client.api.GET("/v1/coding/repositories/{id}", repo(id)));
}

export async function reindex(client: AatClient, id: string): Promise<IndexJob> {
  return unwrap(client.api.POST("/v1/coding/repositories/{id}/index", repo(id)));
}

export async function tree(client: AatClient, id: string, path: string, depth = 1): Promise<TreeEntry[]> {
  return (
    await unwrap(
      client.api.GET("/v1/coding/repositories/{id}/tree", {
        params: { path: { id }, query: { path, depth } },
      }),
    )
  ).entries;
}

export async function search(client: AatClient, id: string, q: string, limit = 20): Promise<SearchHit[]> {
  return (
    await unwrap(
      client.api.GET("/v1/coding/repositories/{id}/search", {
        params: { path: { id }, query: { q, limit } },
      }),
    )
  ).items;
}

export async function fileSymbols(client: AatClient, id: string, path: string): Promise<CodeSymbol[]> {
  return (
    await unwrap(
      client.api.GET("/v1/coding/repositories/{id}/symbols", {
        params: { path: { id }, query: { path, limit: 1000 } },
      }),
    )
  ).items;
}

/** Where `name` is defined: the index's definitions of exactly that name, best (same file) first. */
export async function definitionsOf(
  client: AatClient,
  id: string,
  name: string,
  fromPath?: string,
): Promise<CodeSymbol[]> {
  const found = await unwrap(
    client.api.GET("/v1/coding/repositories/{id}/references", {
      params: { path: { id }, query: { name, limit: 200 } },
    }),
  );
  return found.definitions
    .filter((d) => d.name === name)
    .sort((a, b) => Number(b.path === fromPath) - Number(a.path === fromPath));
}

/** The whole file (the API returns at most 2,000 lines a call; longer files are read in pages). */
export async function readFile(client: AatClient, id: string, path: string): Promise<FileSlice> {
  const read = (startLine: number) =>
    unwrap(
      client.api.GET("/v1/coding/repositories/{id}/file", {
        params: { path: { id }, query: { path, startLine, endLine: startLine + 1999 } },
      }),
    );
  const first = await read(1);
  let text = first.text;
  let end = first.endLine;
  // Long files: at most 10 pages (20,000 lines) in the viewer; the rest is named, not shown.
  for (let page = 1; end < first.totalLines && page < 10; page++) {
    const next = await read(end + 1);
    text += `\n${next.text}`;
    end = next.endLine;
  }
  if (end < first.totalLines) text += `\n… ${first.totalLines - end} more lines not shown`;
  return { ...first, endLine: end, text };
}

export async function startCodingRun(
  client: AatClient,
  body: { repo: string; task: "explain" | "change" | "fix-test"; prompt: string; testOutput?: string },
): Promise<Schema<"CodingRunStarted">> {
  return unwrap(client.api.POST("/v1/coding/runs", { body }));
}

export interface RunView {
  status: string;
  output?: unknown;
  error?: { message?: string };
}

export async function getRun(client: AatClient, runId: string): Promise<RunView> {
  const view = await unwrap(client.api.GET("/v1/runs/{id}", { params: { path: { id: runId } } }));
  return view.run as RunView;
}

/** Polls the run until `done` says so (or the signal aborts); `onStatus` hears every status seen. */
export async function waitForRun(
  client: AatClient,
  runId: string,
  done: (run: RunView) => boolean,
  onStatus: (status: string) => void = () => {},
  signal?: AbortSignal,
): Promise<RunView> {
  for (let delay = 150; ; delay = Math.min(1000, delay * 1.5)) {
    if (signal?.aborted) throw new Error("stopped");
    const run = await getRun(client, runId);
    onStatus(run.status);
    if (done(run)) return run;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export async function runDiffs(client: AatClient, runId: string): Promise<RunDiffs> {
  return unwrap(client.api.GET("/v1/coding/runs/{runId}/diffs", { params: { path: { runId } } }));
}

export async function decideDiff(
  client: AatClient,
  runId: string,
  diffId: string,
  action: "apply" | "reject",
  rationale: string,
): Promise<void> {
  const options = {
    params: { path: { runId, diffId } },
    body: rationale ? { rationale } : {},
  };
  await unwrap(
    action === "apply"
      ? client.api.POST("/v1/coding/runs/{runId}/diffs/{diffId}/apply", options)
      : client.api.POST("/v1/coding/runs/{runId}/diffs/{diffId}/reject", options),
  );
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface AddForm {
  id: string;
  kind: "local" | "git";
  path: string;
  url: string;
  ref: string;
}

/** The add form's problems by field, before anything is sent (the server checks again). */
export function validateAddForm(form: AddForm): Partial<Record<"id" | "path" | "url" | "ref", string>> {
  const errors: Partial<Record<"id" | "path" | "url" | "ref", string>> = {};
  if (!form.id.trim()) errors.id = "Give the repository an id (letters, digits, . _ -).";
  else if (!REPO_ID.test(form.id.trim()))
    errors.id = 'Use 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit.';
  if (form.kind === "local") {
    if (!form.path.trim()) errors.path = "Give a directory inside the server's workspace root.";
  } else {
    const url = form.url.trim();
    if (!url) errors.url = "Give a git URL (https://… or user@host:path).";
    else if (!/^(https?:\/\/|ssh:\/\/|[\w.-]+@[\w.-]+:)/.test(url))
      errors.url = "Use an https:// or ssh (user@host:path) URL.";
    if (form.ref.length > 250) errors.ref = "A branch, tag or commit has at most 250 characters.";
  }
  return errors;
}

/** The identifier at `offset` in `text` (letters, digits, _ and $), or undefined. */
export function identifierAt(text: string, offset: number): string | undefined {
  const word = /[A-Za-z0-9_$]/;
  let from = offset;
  let to = offset;
  while (from > 0 && word.test(text[from - 1] ?? "")) from--;
  while (to < text.length && word.test(text[to] ?? "")) to++;
  const found = text.slice(from, to);
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(found) ? found : undefined;
}
