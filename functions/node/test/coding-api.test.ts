import { execFileSync } from "node:child_process";
import { mkdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { writeGitRepository } from "@aat/coding/testing";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CodingClient, SHOP_FILES, startCoding } from "./coding-support.js";
import { tempDir } from "./support.js";

/*
 * /v1/coding over real HTTP against the Node runtime (embedded default: SQLite store, offline model,
 * the shipped plans). Every route: success, no credentials (401), bad input (problem+json naming the
 * field), unknown repository or run (404).
 */

let t: CodingClient;
let outside: string;

beforeAll(async () => {
  t = await startCoding({ coding: { git: { schemes: ["https", "file"] } } });
  await writeGitRepository(join(t.root, "shop"), SHOP_FILES);
  outside = await tempDir("coding-outside");
  await writeGitRepository(join(outside, "upstream"), SHOP_FILES);
  execFileSync("git", ["branch", "release"], { cwd: join(outside, "upstream") });
});
afterAll(async () => {
  await t?.stop();
  await rm(outside, { recursive: true, force: true });
});

const ROUTES: Array<[string, string, unknown?]> = [
  ["POST", "/v1/coding/repositories", { id: "x", source: { kind: "local", path: "x" } }],
  ["GET", "/v1/coding/repositories"],
  ["GET", "/v1/coding/repositories/shop"],
  ["DELETE", "/v1/coding/repositories/shop"],
  ["POST", "/v1/coding/repositories/shop/index"],
  ["GET", "/v1/coding/repositories/shop/index"],
  ["GET", "/v1/coding/repositories/shop/index/events"],
  ["GET", "/v1/coding/repositories/shop/search?q=cart"],
  ["GET", "/v1/coding/repositories/shop/symbols?path=src/cart.ts"],
  ["GET", "/v1/coding/repositories/shop/references?name=cartTotal"],
  ["GET", "/v1/coding/repositories/shop/file?path=src/cart.ts"],
  ["GET", "/v1/coding/repositories/shop/tree"],
  ["POST", "/v1/coding/runs", { repo: "shop", task: "explain", prompt: "what?" }],
  ["GET", "/v1/coding/runs/r1/diffs"],
  ["POST", "/v1/coding/runs/r1/diffs/apply/apply", {}],
  ["POST", "/v1/coding/runs/r1/diffs/apply/reject", {}],
];

describe("coding API: OpenAPI", () => {
  it("the coding routes are valid OpenAPI 3.1; every coding operation lists its roles and problems", async () => {
    const response = await fetch(`${t.runtime.url}/v1/openapi.json`);
    const doc = (await response.json()) as {
      paths: Record<string, Record<string, { "x-aat-roles"?: string[]; responses: Record<string, unknown> }>>;
    };
    // Only the coding paths are checked here (core/test/api/openapi.test.ts checks the rest).
    const codingOnly = {
      ...doc,
      paths: Object.fromEntries(Object.entries(doc.paths).filter(([path]) => path.startsWith("/v1/coding"))),
    };
    const validator = new Validator();
    const result = await validator.validate(codingOnly as never);
    expect(result.errors).toBeUndefined();
    const coding = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/v1/coding"))
      .flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => ({ name: `${method} ${path}`, op })),
      );
    expect(coding).toHaveLength(ROUTES.length);
    for (const { name, op } of coding) {
      expect(op["x-aat-roles"], name).toContain("admin");
      expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(["401", "403"]));
    }
  });
});

describe("coding API: credentials", () => {
  it("every route answers 401 problem+json without credentials", async () => {
    for (const [method, path, body] of ROUTES) {
      const response = await fetch(`${t.runtime.url}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
    }
  });

  it("a viewer may read but not add repositories (403)", async () => {
    const created = await t.call("POST", "/v1/keys", { name: "viewer", roles: ["viewer"] });
    expect(created.status).toBe(201);
    const viewer = { authorization: `Bearer ${created.json.key}` };
    expect((await t.call("GET", "/v1/coding/repositories", undefined, viewer)).status).toBe(200);
    const refused = await t.call(
      "POST",
      "/v1/coding/repositories",
      { id: "v", source: { kind: "local", path: "shop" } },
      viewer,
    );
    expect(refused.status).toBe(403);
  });
});

describe("coding API: repositories", () => {
  it("adds a local repository, indexes it in the background and reports the job", async () => {
    const added = await t.call("POST", "/v1/coding/repositories", {
      id: "shop",
      name: "Shop",
      source: { kind: "local", path: "shop" },
    });
    expect(added.status).toBe(201);
    expect(added.headers.get("location")).toBe("/v1/coding/repositories/shop");
    expect(added.json.repository).toMatchObject({ id: "shop", name: "Shop", source: { kind: "local" } });
    expect(added.json.job).toMatchObject({ repo: "shop", status: "running" });
    const job = await t.indexed("shop");
    expect(job).toMatchObject({ status: "succeeded", stats: { files: 4, indexed: 4 } });
    const one = await t.call("GET", "/v1/coding/repositories/shop");
    expect(one.json).toMatchObject({ id: "shop", index: { status: "ready", files: 4 } });
    expect(one.json.head).toMatch(/^[0-9a-f]{40}$/);
    const list = await t.call("GET", "/v1/coding/repositories");
    expect(list.json.items.map((r: { id: string }) => r.id)).toContain("shop");
  });

  it("re-indexing parses only changed files", async () => {
    const started = await t.call("POST", "/v1/coding/repositories/shop/index");
    expect(started.status).toBe(202);
    expect(started.json.repo).toBe("shop");
    const job = await t.indexed("shop");
    expect(job.stats).toMatchObject({ files: 4, indexed: 0, unchanged: 4 });
  });

  it("streams the index job: progress messages while it runs, then end with the finished job", async () => {
    const started = await t.call("POST", "/v1/coding/repositories/shop/index");
    const response = await fetch(`${t.runtime.url}/v1/coding/repositories/shop/index/events?intervalMs=50`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const messages = (await response.text())
      .split("\n\n")
      .filter((block) => block.includes("data:"))
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!),
      }));
    const end = messages.at(-1)!;
    expect(end).toMatchObject({ event: "end", data: { id: started.json.id, status: "succeeded" } });
    for (const message of messages.slice(0, -1))
      expect(message).toMatchObject({ event: "progress", data: { id: started.json.id, status: "running" } });
    const bad = await t.call("GET", "/v1/coding/repositories/shop/index/events?intervalMs=1");
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe("query.intervalMs");
  });

  it("clones a git URL at a branch; refuses hosts and schemes not allowed", async () => {
    const url = `file://${join(outside, "upstream")}`;
    const added = await t.call("POST", "/v1/coding/repositories", {
      id: "upstream",
      source: { kind: "git", url, ref: "release" },
    });
    expect(added.status).toBe(201);
    expect((await t.indexed("upstream")).status).toBe("succeeded");
    const host = await t.call("POST", "/v1/coding/repositories", {
      id: "evil",
      source: { kind: "git", url: "https://git.evil.example/x.git" },
    });
    expect(host.status).toBe(422);
    expect(host.json).toMatchObject({
      type: expect.stringMatching(/\/url-not-allowed$/),
      code: "url_not_allowed",
    });
    expect(host.json.detail).toContain("coding.git.allowedHosts");
    const scheme = await t.call("POST", "/v1/coding/repositories", {
      id: "evil",
      source: { kind: "git", url: "ext::sh -c touch% /tmp/pwned" },
    });
    expect(scheme.status).toBe(422);
    // Deleting a clone removes its directory; the list no longer has it.
    expect((await t.call("DELETE", "/v1/coding/repositories/upstream")).status).toBe(204);
    expect((await t.call("GET", "/v1/coding/repositories/upstream")).status).toBe(404);
    const again = await t.call("POST", "/v1/coding/repositories", {
      id: "upstream",
      source: { kind: "git", url },
    });
    expect(again.status).toBe(201);
    await t.indexed("upstream");
  });

  it("bad input: field paths for the body, confinement for paths, 409 for a duplicate", async () => {
    const invalid = await t.call("POST", "/v1/coding/repositories", { id: "../x", source: { kind: "svn" } });
    expect(invalid.status).toBe(422);
    expect(invalid.json.type).toMatch(/\/validation$/);
    const paths = invalid.json.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["id", "source.kind"]));
    const escaping = await t.call("POST", "/v1/coding/repositories", {
      id: "escape",
      source: { kind: "local", path: outside },
    });
    expect(escaping.status).toBe(422);
    expect(escaping.json.type).toMatch(/\/path-outside-workspace$/);
    await symlink(outside, join(t.root, "link-out"));
    const linked = await t.call("POST", "/v1/coding/repositories", {
      id: "linked",
      source: { kind: "local", path: "link-out" },
    });
    expect(linked.status).toBe(422);
    expect(linked.json.type).toMatch(/\/path-outside-workspace$/);
    const duplicate = await t.call("POST", "/v1/coding/repositories", {
      id: "shop",
      source: { kind: "local", path: "shop" },
    });
    expect(duplicate.status).toBe(409);
    const missing = await t.call("POST", "/v1/coding/repositories", {
      id: "nothere",
      source: { kind: "local", path: "nothere" },
    });
    expect(missing.status).toBe(404);
  });
});

describe("coding API: search, symbols, references, files, tree", () => {
  it("search ranks the defining file first and shows matching symbols and lines", async () => {
    const found = await t.call("GET", "/v1/coding/repositories/shop/search?q=cartTotal&limit=5");
    expect(found.status).toBe(200);
    expect(found.json.items[0]).toMatchObject({
      path: "src/cart.ts",
      symbols: [{ name: "cartTotal", kind: "function", line: 8 }],
    });
    expect(found.json.items.map((h: { path: string }) => h.path)).toContain("src/discount.ts");
    const bad = await t.call("GET", "/v1/coding/repositories/shop/search?q=&limit=500");
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(["query.limit", "query.q"]);
  });

  it("symbols of a file and by name; references by name", async () => {
    const ofFile = await t.call("GET", "/v1/coding/repositories/shop/symbols?path=src/cart.ts");
    expect(
      ofFile.json.items.map(
        (s: { name: string; kind: string; container?: string }) =>
          `${s.kind} ${s.container ? `${s.container}.` : ""}${s.name}`,
      ),
    ).toEqual([
      "interface CartItem",
      "variable CartItem.sku",
      "variable CartItem.price",
      "variable CartItem.quantity",
      "function cartTotal",
    ]);
    const byName = await t.call("GET", "/v1/coding/repositories/shop/symbols?name=weekly&kind=function");
    expect(byName.json.items).toEqual([
      expect.objectContaining({ path: "tools/report.py", name: "weekly_report", kind: "function" }),
    ]);
    const badKind = await t.call("GET", "/v1/coding/repositories/shop/symbols?kind=module");
    expect(badKind.status).toBe(400);
    expect(badKind.json.errors[0].path).toBe("query.kind");
    const refs = await t.call("GET", "/v1/coding/repositories/shop/references?name=cartTotal");
    expect(refs.status).toBe(200);
    expect(refs.json.definitions).toEqual([
      expect.objectContaining({ path: "src/cart.ts", name: "cartTotal" }),
    ]);
    expect(refs.json.references.map((r: { path: string }) => r.path)).toContain("src/discount.ts");
    expect((await t.call("GET", "/v1/coding/repositories/shop/references")).status).toBe(400);
  });

  it("reads a range of lines with the language; refuses paths out of the repository", async () => {
    const slice = await t.call(
      "GET",
      "/v1/coding/repositories/shop/file?path=src/cart.ts&startLine=8&endLine=10",
    );
    expect(slice.json).toEqual({
      path: "src/cart.ts",
      startLine: 8,
      endLine: 10,
      totalLines: 10,
      text: SHOP_FILES["src/cart.ts"]!.split("\n").slice(7, 10).join("\n"),
      language: "typescript",
    });
    const out = await t.call("GET", "/v1/coding/repositories/shop/file?path=../../etc/passwd");
    expect(out.status).toBe(422);
    expect(out.json.type).toMatch(/\/path-outside-workspace$/);
    const absolute = await t.call("GET", "/v1/coding/repositories/shop/file?path=/etc/passwd");
    expect(absolute.status).toBe(422);
    expect((await t.call("GET", "/v1/coding/repositories/shop/file?path=src/none.ts")).status).toBe(404);
    const range = await t.call("GET", "/v1/coding/repositories/shop/file?path=src/cart.ts&startLine=0");
    expect(range.status).toBe(400);
    expect(range.json.errors[0].path).toBe("query.startLine");
  });

  it("lists the tree to a depth", async () => {
    const tree = await t.call("GET", "/v1/coding/repositories/shop/tree?depth=1");
    expect(tree.json.entries).toEqual([
      { path: "README.md", type: "file", lines: 3 },
      { path: "src", type: "directory" },
      { path: "tools", type: "directory" },
    ]);
    const sub = await t.call("GET", "/v1/coding/repositories/shop/tree?path=src");
    expect(sub.json.entries.map((e: { path: string }) => e.path)).toEqual(["src/cart.ts", "src/discount.ts"]);
    expect((await t.call("GET", "/v1/coding/repositories/shop/tree?path=nope")).status).toBe(404);
    expect((await t.call("GET", "/v1/coding/repositories/shop/tree?depth=0")).status).toBe(400);
  });

  it("unknown repositories are 404 on every repository route", async () => {
    for (const [method, path] of ROUTES.filter(([, p]) => p.startsWith("/v1/coding/repositories/shop"))) {
      const response = await t.call(method, path.replace("/shop", "/ghost"));
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.json.type).toMatch(/\/not-found$/);
    }
  });
});

describe("coding API: runs and diffs on the offline model", () => {
  it("explain answers honestly from the index with cited files and lines", async () => {
    const started = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "explain",
      prompt: "how is the cart total computed?",
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ offline: true, plan: { id: "coding.explain" } });
    expect(started.json.links.diffs).toBe(`/v1/coding/runs/${started.json.runId}/diffs`);
    const run = await t.until(started.json.runId, ["succeeded", "failed"]);
    expect(run.status).toBe("succeeded");
    expect(run.output.mode).toBe("offline");
    expect(run.output.answer).toMatch(/^\[offline model\] Explaining code needs a configured language model/);
    expect(run.output.citations[0]).toMatchObject({ path: "src/cart.ts", startLine: expect.any(Number) });
    const diffs = await t.call("GET", `/v1/coding/runs/${started.json.runId}/diffs`);
    expect(diffs.json).toEqual({ runId: started.json.runId, runStatus: "succeeded", items: [] });
  });

  it("change and fix-test say plainly that they need a model and change nothing", async () => {
    const change = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "change",
      prompt: "apply the discount to the cart total",
    });
    const changed = await t.until(change.json.runId, ["succeeded", "failed"]);
    expect(changed.output).toMatchObject({ mode: "offline", status: "not_attempted" });
    expect(changed.output.summary).toContain(
      "[offline model] Changing code needs a configured language model",
    );
    const fix = await t.call("POST", "/v1/coding/runs", {
      repo: "shop",
      task: "fix-test",
      prompt: "the discount test fails",
      testOutput: "FAIL test/discount.test.ts > applyDiscount\nExpected 90, received 100",
    });
    const fixed = await t.until(fix.json.runId, ["succeeded", "failed"]);
    expect(fixed.output).toMatchObject({ mode: "offline", status: "not_attempted" });
    expect(fixed.output.locations[0].path).toBe("src/discount.ts");
    expect(
      execFileSync("git", ["branch", "--list"], { cwd: join(t.root, "shop"), encoding: "utf8" }).trim(),
    ).toBe("* main");
  });

  it("bad run input names the field; unknown repository and run are 404; a diff not waiting is 409/404", async () => {
    const invalid = await t.call("POST", "/v1/coding/runs", { repo: "shop", task: "fix-test", prompt: "x" });
    expect(invalid.status).toBe(422);
    expect(invalid.json.errors).toEqual([expect.objectContaining({ path: "testOutput" })]);
    const task = await t.call("POST", "/v1/coding/runs", { repo: "shop", task: "refactor", prompt: "x" });
    expect(task.json.errors[0].path).toBe("task");
    const ghost = await t.call("POST", "/v1/coding/runs", { repo: "ghost", task: "explain", prompt: "x" });
    expect(ghost.status).toBe(404);
    expect((await t.call("GET", "/v1/coding/runs/no-such-run/diffs")).status).toBe(404);
    expect((await t.call("POST", "/v1/coding/runs/no-such-run/diffs/apply/apply", {})).status).toBe(404);
    const done = await t.call("POST", "/v1/coding/runs", { repo: "shop", task: "explain", prompt: "cart" });
    await t.until(done.json.runId, ["succeeded"]);
    const noDiff = await t.call("POST", `/v1/coding/runs/${done.json.runId}/diffs/apply/apply`, {});
    expect(noDiff.status).toBe(404);
    expect(noDiff.json.detail).toContain("it proposed none");
    const badBody = await t.call("POST", `/v1/coding/runs/${done.json.runId}/diffs/apply/reject`, { why: 1 });
    expect(badBody.status).toBe(422);
    expect(badBody.json.errors[0].path).toBe("why");
  });

  it("deletes a local repository without touching its directory", async () => {
    await mkdir(join(t.root, "scratch"));
    await writeGitRepository(join(t.root, "scratch"), { "a.ts": "export const a = 1;\n" });
    expect(
      (
        await t.call("POST", "/v1/coding/repositories", {
          id: "scratch",
          source: { kind: "local", path: "scratch" },
        })
      ).status,
    ).toBe(201);
    await t.indexed("scratch");
    expect((await t.call("DELETE", "/v1/coding/repositories/scratch")).status).toBe(204);
    expect((await t.call("DELETE", "/v1/coding/repositories/scratch")).status).toBe(404);
    expect(
      execFileSync("git", ["log", "--oneline"], { cwd: join(t.root, "scratch"), encoding: "utf8" }),
    ).toContain("initial");
  });
});
