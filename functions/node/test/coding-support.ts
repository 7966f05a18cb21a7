import { execFileSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { capturingLogger, eventually, SHIPPED_PLANS, tempDir } from "./support.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in these tests.
export type Json = any;

/** A small TypeScript/Python repository committed on main, for the coding tests. */
export const SHOP_FILES: Record<string, string> = {
  "src/cart.ts": [
    "export interface CartItem {",
    "  sku: string;",
    "  price: number;",
    "  quantity: number;",
    "}",
    "",
    "/** The cart total in cents. */",
    "export function cartTotal(items: CartItem[]): number {",
    "  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);",
    "}",
    "",
  ].join("\n"),
  "src/discount.ts": [
    'import { cartTotal, type CartItem } from "./cart.js";',
    "",
    "export function applyDiscount(items: CartItem[], percent: number): number {",
    "  const total = cartTotal(items);",
    "  return total - Math.round((total * percent) / 100);",
    "}",
    "",
  ].join("\n"),
  "tools/report.py": [
    "def weekly_report(rows):",
    '    """Sum of the rows."""',
    "    return sum(rows)",
    "",
  ].join("\n"),
  "README.md": "# Shop\n\nA tiny shop used by the coding tests.\n",
};

export async function writeRepository(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), content);
  }
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "initial");
}

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
