import path from "node:path";
import {
  type RepositoryCatalog as Catalog,
  CodingService,
  codingTools,
  RepositoryCatalog,
  Workspaces,
} from "@aat/coding";
import {
  type AatConfig,
  type CodingApiDeps,
  type CodingFileSlice,
  type CodingSearchHit,
  type CodingSymbol,
  type CodingTreeEntry,
  callTool,
  type KeyValue,
  type Tool,
  type ToolRegistry,
} from "@aat/core";

export interface CodingRuntime {
  api: CodingApiDeps;
  catalog: Catalog;
  service: CodingService;
  close(): Promise<void>;
}

/** Where repositories live when coding.workspaceRoot is not set. */
export function workspaceRootOf(config: AatConfig): string {
  return config.coding.workspaceRoot ?? path.join(config.dataDir, "workspaces");
}

/**
 * The coding workflow in the Node runtime: repositories under coding.workspaceRoot, their indexes in
 * the KeyValue store, the code.* tools in the registry (before plans load, which checks tool names)
 * and the /v1/coding port. Repositories stored by an earlier start are opened again.
 */
export async function codingRuntime(deps: {
  config: AatConfig;
  kv: KeyValue;
  tools: ToolRegistry;
  offline: () => boolean;
  now?: () => number;
  onError?: (repo: string, message: string) => void;
}): Promise<CodingRuntime> {
  const { config, kv } = deps;
  const settings = config.coding;
  const workspaces = new Workspaces({
    root: workspaceRootOf(config),
    // Git sources off: no scheme is allowed, so every git URL is refused with the reason.
    allowedUrlSchemes: settings.git.enabled ? settings.git.schemes : [],
    allowedHosts: settings.git.allowedHosts,
  });
  let catalog: RepositoryCatalog | undefined;
  const service = new CodingService({
    workspaces,
    kv,
    index: { maxFileBytes: settings.maxFileBytes },
    open: async (repo) => catalog?.open(repo),
  });
  catalog = new RepositoryCatalog({
    service,
    kv,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  for (const failed of await catalog.restore()) deps.onError?.(failed.id, failed.error);

  const runTests =
    settings.runTests.command.length > 0
      ? {
          command: settings.runTests.command,
          timeoutMs: settings.runTests.timeoutMs,
          requireApproval: settings.runTests.requireApproval,
        }
      : undefined;
  const tools = codingTools(service, runTests ? { runTests } : {});
  for (const tool of tools) deps.tools.register(tool);
  const byName = new Map<string, Tool>(tools.map((t) => [t.name, t as Tool]));
  // The API reads through the same tools the agent uses: one input check, one set of errors.
  const call = <T>(name: string, input: unknown) =>
    callTool(byName.get(name)!, input, {
      runId: "api",
      stepKey: "coding",
      attempt: 1,
      idempotencyKey: `api/coding/${name}`,
      signal: new AbortController().signal,
    }) as Promise<T>;
  const known = async (id: string) => {
    await service.workspace(id);
  };

  const api: CodingApiDeps = {
    offline: deps.offline,
    addRepository: (input) => catalog.add(input),
    listRepositories: () => catalog.list(),
    getRepository: (id) => catalog.get(id),
    deleteRepository: (id) => catalog.remove(id),
    reindex: (id) => catalog.reindex(id),
    indexJob: (id) => catalog.job(id),
    async search(id, query, limit) {
      await known(id);
      return (await call<{ hits: CodingSearchHit[] }>("code.search", { repo: id, query, limit })).hits;
    },
    async symbols(id, filter) {
      await known(id);
      return (await call<{ symbols: CodingSymbol[] }>("code.symbols", { repo: id, ...filter })).symbols;
    },
    async references(id, name, limit) {
      await known(id);
      return call("code.references", { repo: id, name, limit });
    },
    async read(id, file, startLine, endLine) {
      await known(id);
      const slice = await call<CodingFileSlice>("code.read", {
        repo: id,
        path: file,
        startLine,
        ...(endLine !== undefined ? { endLine } : {}),
      });
      const language = (await service.index(id)).file(slice.path)?.language;
      return { ...slice, ...(language ? { language } : {}) };
    },
    async tree(id, dir, depth) {
      await known(id);
      return (await call<{ entries: CodingTreeEntry[] }>("code.tree", { repo: id, path: dir, depth }))
        .entries;
    },
  };
  return { api, catalog, service, close: () => catalog.close() };
}
