import { createSamplePglite, createSqlDriver, PgliteDriver } from "@aat/adapter-sql";
import {
  type AatConfig,
  type AnalyticsApiDeps,
  analyticsChartTool,
  type DataSource,
  DataSourceError,
  DataSources,
  type KeyValue,
  type ReadOnlyRunOptions,
  SchemaCache,
  type Secrets,
  type SqlDriver,
  type SqlRows,
  sqlExplainTool,
  sqlQueryTool,
  sqlSchemaTool,
  type ToolRegistry,
} from "@aat/core";

export const SAMPLE_DATASOURCE_ID = "sample";

/**
 * The embedded sample opens on first use: loading the dataset into PGlite takes about a second, which
 * a start that never touches analytics should not pay.
 */
class LazyDriver implements SqlDriver {
  private opened: Promise<SqlDriver> | undefined;
  constructor(
    readonly engine: SqlDriver["engine"],
    private readonly open: () => Promise<SqlDriver>,
  ) {}
  private driver(): Promise<SqlDriver> {
    this.opened ??= this.open().catch((error) => {
      this.opened = undefined;
      throw error;
    });
    return this.opened;
  }
  async queryReadOnly(sql: string, options: ReadOnlyRunOptions): Promise<SqlRows> {
    return (await this.driver()).queryReadOnly(sql, options);
  }
  async canWrite(): Promise<boolean> {
    const driver = await this.driver();
    return (await driver.canWrite?.()) ?? false;
  }
  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened.catch(() => undefined))?.close();
  }
}

export interface AnalyticsRuntime {
  api: AnalyticsApiDeps;
  sources: DataSources;
  close(): Promise<void>;
}

/**
 * Analytics in the Node runtime: the built-in data sources (the PGlite sample unless
 * analytics.sample is false, and analytics.datasources), the schema cache, and the sql.* and
 * analytics.chart tools in the registry (before plans load, which checks tool names).
 */
export function analyticsRuntime(deps: {
  config: AatConfig;
  kv: KeyValue;
  secrets: Secrets;
  tools: ToolRegistry;
  offline: () => boolean;
  now?: () => number;
  onConfiguredSourceError?: (id: string, message: string) => void;
}): AnalyticsRuntime {
  const { config, kv, secrets, tools } = deps;
  const now = deps.now ?? Date.now;
  const builtin = new Map<string, { source: DataSource; driver: SqlDriver }>();
  if (config.analytics.sample) {
    builtin.set(SAMPLE_DATASOURCE_ID, {
      source: {
        id: SAMPLE_DATASOURCE_ID,
        name: "Sample security data (embedded PGlite)",
        engine: "pglite",
        createdAt: 0,
      },
      driver: new LazyDriver("pglite", async () => new PgliteDriver(await createSamplePglite())),
    });
  }
  for (const [id, configured] of Object.entries(config.analytics.datasources)) {
    const source: DataSource = {
      id,
      name: configured.name ?? id,
      engine: configured.engine,
      ...(configured.urlSecret !== undefined ? { urlSecret: configured.urlSecret } : {}),
      ...(configured.path !== undefined ? { path: configured.path } : {}),
      createdAt: 0,
    };
    builtin.set(id, {
      source,
      // The secret is read when the source is first used, so a rotated URL needs only a restart.
      driver: new LazyDriver(configured.engine, async () => {
        let url: string | undefined;
        if (source.urlSecret) {
          url = await secrets.get(source.urlSecret);
          if (url === undefined) {
            const where = secrets.describe?.(source.urlSecret) ?? `secret "${source.urlSecret}"`;
            const message = `data source "${id}" (analytics.datasources): its connection URL is not configured (${where})`;
            deps.onConfiguredSourceError?.(id, message);
            throw new DataSourceError(message, 422);
          }
        }
        return createSqlDriver(source, url === undefined ? {} : { url });
      }),
    });
  }
  const sources = new DataSources(kv, secrets, createSqlDriver, builtin, now);
  const schemas = new SchemaCache(kv);
  const limits = { maxRows: config.analytics.maxRows, timeoutMs: config.analytics.timeoutMs };
  tools
    .register(sqlQueryTool(sources.resolve, limits))
    .register(sqlSchemaTool(sources.resolve, schemas))
    .register(sqlExplainTool(sources.resolve, limits.timeoutMs))
    .register(analyticsChartTool());
  return {
    sources,
    api: { sources, schemas, offline: deps.offline, limits },
    async close() {
      await sources.close();
      await Promise.allSettled([...builtin.values()].map((entry) => entry.driver.close()));
    },
  };
}
