/**
 * The graph view's layout: a plan's control flow as layers, read from the plan definition with the
 * same rules as the engine (core/src/plan/structure.ts): a step goes to its `next`, else the following
 * step of its list (`end: true` stops); branch cases, `default`, `onError` and `onReject` add edges;
 * parallel branches and map bodies are flows of their own and edges never leave a flow.
 * Layers are longest paths over forward edges (document order is a topological order of them);
 * edges back to earlier steps (loops) are drawn but do not push layers.
 */

export interface GraphStep {
  id: string;
  type: string;
  title?: string;
  /** Inner flows: one per parallel branch, one for a map body. */
  flows: GraphFlow[];
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: "next" | "case" | "default" | "onError" | "onReject";
  /** Drawn against the flow's direction (a loop). */
  back: boolean;
}

export interface GraphFlow {
  id: string;
  name?: string;
  layers: GraphStep[][];
  edges: GraphEdge[];
}

type Raw = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const list = (v: unknown): Raw[] =>
  Array.isArray(v) ? v.filter((x): x is Raw => typeof x === "object" && x !== null) : [];

/** Builds the root flow of a parsed plan definition (`{ steps: [...] }`); tolerant of partial plans. */
export function planGraph(definition: unknown): GraphFlow {
  const steps = typeof definition === "object" && definition !== null ? (definition as Raw).steps : undefined;
  return buildFlow("root", list(steps));
}

function buildFlow(flowId: string, defs: Raw[], name?: string): GraphFlow {
  const valid = defs.filter((d) => typeof d.id === "string");
  const index = new Map(valid.map((d, i) => [d.id as string, i]));
  const edges: GraphEdge[] = [];
  const add = (from: string, to: string | undefined, kind: GraphEdge["kind"]) => {
    if (to === undefined || !index.has(to)) return;
    if (edges.some((e) => e.from === from && e.to === to)) return;
    edges.push({ from, to, kind, back: (index.get(to) ?? 0) <= (index.get(from) ?? 0) });
  };
  valid.forEach((d, i) => {
    const id = d.id as string;
    const following = d.end === true ? undefined : (str(d.next) ?? (valid[i + 1]?.id as string | undefined));
    if (d.type === "branch") {
      for (const c of list(d.cases)) add(id, str(c.next), "case");
      if (str(d.default)) add(id, str(d.default), "default");
      else add(id, following, "next");
    } else {
      add(id, following, "next");
    }
    add(id, str(d.onError), "onError");
    if (d.type === "approval") add(id, str(d.onReject), "onReject");
  });

  const layerOf = new Map<string, number>();
  valid.forEach((d, i) => {
    const id = d.id as string;
    if (!layerOf.has(id)) layerOf.set(id, i === 0 ? 0 : (layerOf.get(valid[i - 1]?.id as string) ?? 0) + 1);
    const here = layerOf.get(id) ?? 0;
    for (const e of edges) {
      if (e.from === id && !e.back) layerOf.set(e.to, Math.max(layerOf.get(e.to) ?? 0, here + 1));
    }
  });
  const layers: GraphStep[][] = [];
  valid.forEach((d) => {
    const id = d.id as string;
    const layer = layerOf.get(id) ?? 0;
    const inner: GraphFlow[] =
      d.type === "parallel"
        ? list(d.branches).map((b, i) =>
            buildFlow(`${id}#${i}`, list(b.steps), str(b.name) ?? `branch ${i + 1}`),
          )
        : d.type === "map"
          ? [buildFlow(`${id}#0`, list(d.steps), "each item")]
          : [];
    const step: GraphStep = { id, type: str(d.type) ?? "step", flows: inner };
    const title = str(d.title);
    if (title) step.title = title;
    const row = layers[layer] ?? [];
    row.push(step);
    layers[layer] = row;
  });
  const flow: GraphFlow = { id: flowId, layers: layers.filter((l) => l !== undefined), edges };
  if (name) flow.name = name;
  return flow;
}

/** Instance keys of a step in a run: `id` itself, or `container[2]/id`, `container/branch/id`, … */
export function instancesOf<T>(id: string, steps: Record<string, T>): Array<[string, T]> {
  return Object.entries(steps).filter(([key]) => key === id || key.endsWith(`/${id}`));
}

const rank = [
  "failed",
  "dead_lettered",
  "waiting_approval",
  "retrying",
  "running",
  "queued",
  "rejected",
  "cancelled",
  "approved",
  "succeeded",
  "skipped",
];

/** One status for a step's instances: the most pressing one, with how many instances there are. */
export function summarise(statuses: string[]): { status: string; count: number } {
  if (statuses.length === 0) return { status: "pending", count: 0 };
  const sorted = [...statuses].sort((a, b) => rankOf(a) - rankOf(b));
  return { status: sorted[0] as string, count: statuses.length };
}

function rankOf(status: string): number {
  const i = rank.indexOf(status);
  return i === -1 ? rank.length : i;
}
