/**
 * bench/indexer: the coding workflow's indexer on a real source tree of at least 1,000 source files,
 * next to `git grep` on the same files in the same run.
 *
 *   1. copy the tree (default: the `astro` package from node_modules, without its nested node_modules)
 *      to a temporary directory and `git add` it there, so git grep searches exactly the indexed files;
 *   2. full index (tree-sitter symbols + references, MiniSearch over paths/symbols/content): files/s, lines/s;
 *   3. re-index with nothing changed, then with one file changed (content hashes: one parse);
 *   4. save the index through the KeyValue port (memory adapter), load it back;
 *   5. for each query: the indexed search (ranked, with matching lines) vs `git grep -n -w` over the
 *      same files, median of ROUNDS each, and the ratio.
 *
 *   npm run bench:indexer     (AAT_BENCH_INDEXER_DIR=/some/tree to index another tree; ROUNDS=10)
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { CodeIndex, defaultLanguages, Workspaces } from "@aat/coding";
import { type Cleanups, runBench } from "../lib/deadline.js";
import { fmt, machine } from "../lib/measure.js";

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const QUERIES = (process.env.QUERIES ?? "createComponent,renderToString,AstroError,middleware").split(",");
const REPO_ROOT = new URL("../..", import.meta.url).pathname;
const CANDIDATES = ["node_modules/astro", "node_modules/@opentelemetry", "node_modules/@aws-sdk"];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

function sourceFiles(dir: string): string[] {
  const languages = defaultLanguages();
  const listed = execFileSync("git", ["ls-files", "-z"], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28 });
  return listed.split("\0").filter((f) => f !== "" && languages.forPath(f));
}

async function main(cleanups: Cleanups) {
  console.log("bench/indexer — tree-sitter indexer and ranked search vs git grep, same files, same run");
  console.log(machine());
  const chosen =
    process.env.AAT_BENCH_INDEXER_DIR ??
    CANDIDATES.map((c) => path.join(REPO_ROOT, c)).find((c) => existsSync(c));
  if (!chosen) throw new Error("no source tree found: run npm ci, or set AAT_BENCH_INDEXER_DIR");
  const work = await mkdtemp(path.join(tmpdir(), "aat-bench-indexer-"));
  cleanups.add(() => rm(work, { recursive: true, force: true }));
  const tree = path.join(work, "tree");
  await cp(chosen, tree, {
    recursive: true,
    dereference: false,
    filter: (source) => !source.slice(chosen.length).split(path.sep).includes("node_modules"),
  });
  execFileSync("git", ["init", "-q"], { cwd: tree });
  execFileSync("git", ["add", "-A"], { cwd: tree });
  const sources = sourceFiles(tree);
  console.log(`tree: ${chosen} (copied, git-added): ${sources.length} source files in indexed languages`);
  if (sources.length < 1000)
    throw new Error(
      `${chosen} has only ${sources.length} source files; set AAT_BENCH_INDEXER_DIR to a tree with at least 1,000`,
    );

  const workspaces = new Workspaces({ root: work });
  const workspace = await workspaces.add("bench", { kind: "local", path: "tree" });
  const index = CodeIndex.empty("bench");
  const full = await timed(() => index.update(workspace));
  const stats = full.value;
  const symbolCount = index.symbols({ limit: Number.MAX_SAFE_INTEGER }).length;
  console.log(
    `\nfull index: ${stats.indexed} files (${stats.skippedBinary} binary, ${stats.skippedTooLarge} over 1 MiB skipped), ${fmt(stats.lines, 0)} lines, ${fmt(stats.bytes / 2 ** 20)} MiB, ${fmt(symbolCount, 0)} symbols in ${fmt(full.ms / 1000, 2)} s`,
  );
  console.log(
    `  rate: ${fmt(stats.indexed / (full.ms / 1000))} files/s, ${fmt(stats.lines / (full.ms / 1000), 0)} lines/s`,
  );

  const unchanged = await timed(() => index.update(workspace));
  console.log(
    `re-index, nothing changed: ${unchanged.value.unchanged} unchanged, ${unchanged.value.indexed} parsed in ${fmt(unchanged.ms, 0)} ms`,
  );
  await appendFile(path.join(tree, sources[0]!), "\nexport const aatBenchMarker = 1;\n");
  const oneChanged = await timed(() => index.update(workspace));
  console.log(
    `re-index, one file changed: ${oneChanged.value.indexed} parsed in ${fmt(oneChanged.ms, 0)} ms`,
  );

  const kv = new MemoryKeyValue();
  const saved = await timed(() => index.save(kv));
  const loaded = await timed(() => CodeIndex.load(kv, "bench"));
  console.log(
    `save through KeyValue: ${saved.value.chunks} chunks, ${fmt(saved.value.chars / 2 ** 20)} MiB JSON in ${fmt(saved.ms, 0)} ms; load ${fmt(loaded.ms, 0)} ms`,
  );

  const grepScan = await timed(() =>
    execFileSync("git", ["grep", "-c", "-I", "-e", "function", "--", ...sources], {
      cwd: tree,
      encoding: "utf8",
      maxBuffer: 1 << 28,
    }),
  );
  console.log(
    `\none git grep pass over the same ${sources.length} source files: ${fmt(grepScan.ms, 0)} ms; full index = ${fmt(full.ms / grepScan.ms)} × one grep pass`,
  );

  console.log(
    `\nsearch, median of ${ROUNDS} (indexed: ranked files with matching lines; git grep -n -w -I):`,
  );
  const ratios: number[] = [];
  for (const query of QUERIES) {
    const ours: number[] = [];
    const rankOnly: number[] = [];
    const grep: number[] = [];
    let hits = 0;
    let grepFiles = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const a = await timed(() => index.searchText(workspace, query, 20));
      ours.push(a.ms);
      rankOnly.push((await timed(() => index.rank(query, 20))).ms);
      hits = a.value.length;
      const b = await timed(() => {
        try {
          return execFileSync("git", ["grep", "-n", "-w", "-I", "-e", query, "--", ...sources], {
            cwd: tree,
            encoding: "utf8",
            maxBuffer: 1 << 28,
          });
        } catch (error) {
          if ((error as { status?: number }).status === 1) return ""; // no match
          throw error;
        }
      });
      grep.push(b.ms);
      grepFiles = new Set(
        b.value
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => l.split(":")[0]),
      ).size;
    }
    const ratio = median(grep) / median(ours);
    ratios.push(ratio);
    console.log(
      `  ${query.padEnd(18)} indexed ${fmt(median(ours), 2).padStart(8)} ms (${hits} files shown; ranking alone ${fmt(median(rankOnly), 2)} ms)   git grep ${fmt(median(grep), 2).padStart(8)} ms (${grepFiles} files)   ratio git grep / indexed: ${fmt(ratio, 1)}×`,
    );
  }
  console.log(
    `\nindexing rate: ${fmt(stats.indexed / (full.ms / 1000))} files/s, ${fmt(stats.lines / (full.ms / 1000), 0)} lines/s`,
  );
  console.log(
    `search ratio (git grep / indexed search, geometric mean): ${fmt(Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length), 1)}×`,
  );
}

runBench("bench/indexer", 15 * 60_000, main);
