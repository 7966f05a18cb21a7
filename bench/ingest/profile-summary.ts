/**
 * Summarises a V8 .cpuprofile written under load (bench/ingest/profile.ts): self and inclusive time by
 * function, and self time by package, as shares of the busy (non-idle) samples. Samples before the first
 * one inside FOCUS (default "handleHook") are start-up and left out.
 *   npx tsx bench/ingest/profile-summary.ts /tmp/prof/CPU.….cpuprofile [TOP] [FOCUS]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = process.argv[2];
if (!file) throw new Error("usage: profile-summary.ts FILE.cpuprofile [TOP] [FOCUS]");
const top = Number(process.argv[3] ?? 40);
const focus = process.argv[4] ?? "handleHook";
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[] };
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const nameOf = (id: number) => {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const short = url.replace(/^.*node_modules\//, "~/").replace(/^file:\/\/\/work\/main\//, "");
  return `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
};
const packageOf = (id: number) => {
  const { functionName, url } = byId.get(id)!.callFrame;
  const short = url.replace(/^.*node_modules\//, "~/").replace(/^file:\/\/\/work\/main\//, "");
  if (!short) return functionName;
  if (short.startsWith("~/"))
    return short
      .split("/")
      .slice(0, short.startsWith("~/@") ? 3 : 2)
      .join("/");
  return short;
};
const stack = (id: number) => {
  const ids: number[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) ids.push(at);
  return ids;
};
const start = profile.samples.findIndex((id) => stack(id).some((at) => nameOf(at).startsWith(`${focus} `)));
const samples = profile.samples.slice(Math.max(0, start));
const busy = samples.filter((id) => byId.get(id)!.callFrame.functionName !== "(idle)");
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const packages = new Map<string, number>();
const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
for (const id of busy) {
  add(self, nameOf(id));
  add(packages, packageOf(id));
  for (const name of new Set(stack(id).map(nameOf))) add(inclusive, name);
}
console.log(
  `${samples.length} samples after start-up, ${busy.length} busy (${((100 * busy.length) / samples.length).toFixed(0)}%)`,
);
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (% of busy samples)`);
  for (const [name, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * count) / busy.length).toFixed(1).padStart(5)}%  ${name}`);
  }
};
print("self time by function", self);
print("inclusive time by function", inclusive);
print("self time by package", packages);
