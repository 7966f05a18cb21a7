/**
 * The node binary a shipped code cache is made with (compile-cache.ts): one of the cloud runtimes' major
 * version (Lambda nodejs22.x, Cloud Run functions nodejs22, Azure Functions node 22, as the infra apps
 * deploy them) and of the function's arch, pinned in runtime-node.json (AAT_NODE22_VERSION overrides it)
 * and fetched once from the npm registry (the `node-linux-<arch>` package, no install script) into
 * ~/.cache/aat/ (scripts/node22.sh prints its path). A node of another arch than this machine's runs
 * under qemu user mode (Debian: qemu-user-static and libc6-<arch>-cross), e.g. the arm64 node of
 * infra-aws's Graviton functions on an x64 build machine: V8 refuses a cache made on another arch.
 * What cannot be had is said, not thrown: the bundles then ship without a cache (the build warns).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { CompileCacheTarget } from "./compile-cache.js";

export const RUNTIME_NODE_VERSION: string = (
  JSON.parse(readFileSync(new URL("../runtime-node.json", import.meta.url), "utf8")) as { version: string }
).version;

export type RuntimeNode = { target: CompileCacheTarget } | { unavailable: string };

export interface RuntimeNodeOptions {
  /** Default AAT_NODE22_VERSION, else runtime-node.json's. */
  version?: string;
  /** `x64` or `arm64`; default this machine's. */
  arch?: string;
  /** Where fetched binaries are kept; default AAT_CACHE_DIR, else $XDG_CACHE_HOME/aat or ~/.cache/aat. */
  cacheDir?: string;
}

/** qemu's name of each arch a cloud function runs on. */
const QEMU: Record<string, string> = { arm64: "aarch64", x64: "x86_64" };

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter))
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  return undefined;
}

/** The command that runs a node of `arch` here: none for this machine's arch, qemu user mode otherwise. */
function emulatorFor(arch: string): { emulator: string[] } | { unavailable: string } {
  if (arch === process.arch) return { emulator: [] };
  const qemu = QEMU[arch];
  if (!qemu) return { unavailable: `no cloud function runs on ${arch}: expected x64 or arm64` };
  const command = onPath(`qemu-${qemu}-static`) ?? onPath(`qemu-${qemu}`);
  const sysroot = `/usr/${qemu}-linux-gnu`;
  if (!command || !existsSync(sysroot))
    return {
      unavailable: `a ${arch} node runs on this ${process.arch} machine under qemu user mode, which is not installed (Debian: apt-get install qemu-user-static libc6-${arch}-cross libstdc++6-${arch}-cross)`,
    };
  return { emulator: [command, "-L", sysroot] };
}

/** Downloads node-linux-<arch>@<version> into `dir` (a temporary folder renamed into place: no half copy). */
function fetchNode(name: string, dir: string): string | undefined {
  const parent = join(dir, "..");
  mkdirSync(parent, { recursive: true });
  const scratch = mkdtempSync(join(parent, ".fetch-"));
  try {
    const pack = spawnSync("npm", ["pack", "--silent", name], { cwd: scratch, encoding: "utf8" });
    const tgz = pack.stdout.trim().split("\n").at(-1);
    if (pack.status !== 0 || !tgz) return `npm pack ${name} failed: ${pack.stderr.trim() || pack.error}`;
    const untar = spawnSync("tar", ["xzf", tgz], { cwd: scratch, encoding: "utf8" });
    if (untar.status !== 0) return `unpacking ${tgz} failed: ${untar.stderr.trim()}`;
    rmSync(join(scratch, tgz));
    if (!existsSync(dir)) renameSync(scratch, dir);
    return undefined;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function runtimeNode(options: RuntimeNodeOptions = {}): RuntimeNode {
  const version = options.version ?? process.env.AAT_NODE22_VERSION ?? RUNTIME_NODE_VERSION;
  const arch = options.arch ?? process.arch;
  if (version === process.versions.node && arch === process.arch)
    return { target: { node: process.execPath } };
  if (process.platform !== "linux")
    return {
      unavailable: `the clouds run Linux nodes, which do not run on ${process.platform}: build on Linux (e.g. in CI), or name a node with --node`,
    };
  const emulation = emulatorFor(arch);
  if ("unavailable" in emulation) return emulation;
  const cacheDir =
    options.cacheDir ??
    process.env.AAT_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "aat");
  const name = `node-linux-${arch}`;
  const dir = join(cacheDir, `${name}-${version}`);
  const node = join(dir, "package/bin/node");
  if (!existsSync(node)) {
    const failed = fetchNode(`${name}@${version}`, dir);
    if (failed) return { unavailable: `could not fetch node ${version} for ${arch}: ${failed}` };
  }
  const [command, ...prefix] = [...emulation.emulator, node];
  const check = spawnSync(command!, [...prefix, "-p", "process.version + ' ' + process.arch"], {
    encoding: "utf8",
  });
  if (check.stdout?.trim() !== `v${version} ${arch}`)
    return { unavailable: `${node} does not run here: ${check.stderr?.trim() || check.error}` };
  return {
    target: { node, ...(emulation.emulator.length > 0 ? { emulator: emulation.emulator } : {}) },
  };
}

/**
 * What an infra app's synth ships (on by default): `AAT_CODE_CACHE` on|off, `AAT_CODE_CACHE_NODE` a node
 * binary of the functions' arch instead of the pinned one, `AAT_CODE_CACHE_V8_FLAGS` the V8 flags the
 * platform starts node with (else `flags`, the app's own knowledge of its platform). Returns the target,
 * nothing when off, or a warning saying why the bundles ship without a cache.
 */
export function deployCodeCache(
  who: string,
  arch: string,
  env: NodeJS.ProcessEnv = process.env,
): { target?: CompileCacheTarget; flags?: string[]; warning?: string } {
  const mode = env.AAT_CODE_CACHE?.trim() || "on";
  if (mode !== "on" && mode !== "off")
    throw new Error(`AAT_CODE_CACHE is "${mode}": expected on (the default) or off`);
  if (mode === "off") return {};
  const named = env.AAT_CODE_CACHE_NODE?.trim();
  const found = named ? { target: { node: named } } : runtimeNode({ arch });
  if ("unavailable" in found)
    return {
      warning: `${who}: the function bundles ship without a V8 code cache (slower cold starts): ${found.unavailable}. AAT_CODE_CACHE=off builds without one and without this warning.`,
    };
  const flags = (env.AAT_CODE_CACHE_V8_FLAGS ?? "").split(/\s+/).filter(Boolean);
  return { target: found.target, ...(flags.length > 0 ? { flags } : {}) };
}

/** deployCodeCache for a platform whose V8 flags are not known (Cloud Run functions, Azure Functions). */
export function deployCodeCacheTargets(
  who: string,
  arch: string,
  env: NodeJS.ProcessEnv = process.env,
): CompileCacheTarget[] | undefined {
  const { target, flags, warning } = deployCodeCache(who, arch, env);
  if (warning) console.warn(warning);
  return target ? [{ ...target, ...(flags ? { flags } : {}) }] : undefined;
}
