import { rm } from "node:fs/promises";
import path from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { callTool, type Tool } from "@aat/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodingService } from "../src/service.js";
import { codingTools } from "../src/tools.js";
import { Workspaces } from "../src/workspace.js";
import { writeTree } from "./helpers/repo.js";

let base: string;
let service: CodingService;

const ctx = () => ({
  runId: "r",
  stepKey: "s",
  attempt: 1,
  idempotencyKey: "r/s/1",
  signal: new AbortController().signal,
});

beforeAll(async () => {
  base = await writeTree({
    "repo/check.mjs":
      "console.log('ran in', process.cwd().split('/').pop()); console.error('1 failed'); process.exit(3);\n",
    "repo/slow.mjs": "setTimeout(() => {}, 60_000);\n",
  });
  const workspaces = new Workspaces({ root: base });
  await workspaces.add("repo", { kind: "local", path: "repo" });
  service = new CodingService({ workspaces, kv: new MemoryKeyValue() });
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const runTests = (command: string[], timeoutMs?: number): Tool =>
  codingTools(service, {
    runTests: { command, ...(timeoutMs ? { timeoutMs } : {}), maxOutputChars: 10 },
  }).find((t) => t.name === "code.run_tests")!;

describe("code.run_tests", () => {
  it("does not exist unless configured", () => {
    expect(codingTools(service).map((t) => t.name)).not.toContain("code.run_tests");
  });

  it("runs the configured command in the repository, returns the exit code and the end of the output", async () => {
    const tool = runTests([process.execPath, "check.mjs"]);
    expect(tool).toMatchObject({ dangerous: true, capabilities: ["repo.exec"] });
    const out = await callTool(tool, { repo: "repo" }, ctx());
    expect(out).toMatchObject({
      exitCode: 3,
      signal: null,
      timedOut: false,
      stdout: "…n in repo\n",
      stderr: "1 failed\n",
    });
    expect(path.basename(service.workspaces.get("repo").dir)).toBe("repo");
  });

  it("kills the command at its timeout", async () => {
    const out = await callTool(runTests([process.execPath, "slow.mjs"], 300), { repo: "repo" }, ctx());
    expect(out).toMatchObject({ exitCode: null, signal: "SIGKILL", timedOut: true });
  });

  it("says when the program cannot start", async () => {
    await expect(callTool(runTests(["/nonexistent/program"]), { repo: "repo" }, ctx())).rejects.toThrow(
      /could not start \/nonexistent\/program/,
    );
  });
});
