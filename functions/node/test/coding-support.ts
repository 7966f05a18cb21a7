import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { SHOP_SOURCES } from "@aat/coding/testing";
import { aatConfigSchema } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { capturingLogger, eventually, SHIPPED_PLANS, tempDir } from "./support.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in these tests.
export type Json = any;

/** The shop repository of the coding tests (@aat/coding/testing) with a Python file and a README. */
export const SHOP_FILES: Record<string, string> = {
  ...SHOP_SOURCES,
  "tools/report.py": [
    "def weekly_report(rows):",
    '    """Sum of the rows."""',
    "    return sum(rows)",
    "",
  ].join("\n"),
  "README.md": "# Shop\n\nA tiny shop used by the coding tests.\n",
};

export interface CodingClient {
  runtime: NodeRuntime;
  root: string;
  key: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: Json; headers: Headers }>;
  until(runId: string, statuses: string[]): Promise<Json>;
  indexed(repo: string): Promise<Json>;
  stop(): Promise<void>;
}

/** The Node runtime with coding on: workspaces under a temp root, the shipped plans, the given models. */
export async function startCoding(
  options: { models?: unknown; coding?: Record<string, unknown>; plans?: string[] } = {},
): Promise<CodingClient> {
  const dataDir = await tempDir("coding");
  const root = join(dataDir, "workspaces");
  await mkdir(root, { recursive: true });
  const runtime = await startNodeRuntime({
    config: aatConfigSchema.parse({
      dataDir,
      server: { port: 0 },
      plans: { directories: [SHIPPED_PLANS, ...(options.plans ?? [])], watch: false },
      coding: { workspaceRoot: root, ...options.coding },
      ...(options.models ? { models: options.models } : {}),
    }),
    logger: capturingLogger().logger,
    print: () => undefined,
    siteDir: join(dataDir, "no-site"),
    env: {},
  });
  const key = runtime.bootstrap?.status === "generated" ? runtime.bootstrap.key : "";
  const call: CodingClient["call"] = async (method, path, body, headers = {}) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json, headers: response.headers };
  };
  const until: CodingClient["until"] = (runId, statuses) =>
    eventually(
      async () => {
        const { json } = await call("GET", `/v1/runs/${runId}`);
        return statuses.includes(json.run?.status) ? json.run : undefined;
      },
      `run ${runId} to be ${statuses.join(" or ")}`,
    );
  const indexed: CodingClient["indexed"] = (repo) =>
    eventually(async () => {
      const { json } = await call("GET", `/v1/coding/repositories/${repo}/index`);
      return json.status === "succeeded" || json.status === "failed" ? json : undefined;
    }, `repository ${repo} to be indexed`);
  return {
    runtime,
    root,
    key,
    call,
    until,
    indexed,
    async stop() {
      await runtime.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
