import { z } from "zod";
import type { KeyValue } from "../../ports/kv.js";
import type { Secrets } from "../../secrets/secrets.js";
import { SQL_ENGINES, type SqlDriver, type SqlEngine } from "./driver.js";

/**
 * A data source as stored: credentials are never stored or returned, only the name of the secret that
 * holds the connection URL (`urlSecret`), looked up in the Secrets port when connecting.
 */
export const dataSourceInputSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes, e.g. "warehouse"')
    .describe("Stable id used by the API and the sql.* tools"),
  name: z.string().min(1).max(200),
  engine: z.enum(SQL_ENGINES as [SqlEngine, ...SqlEngine[]]),
  urlSecret: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Name of the secret holding the connection URL (postgres://…, mysql://…); never the URL itself",
    ),
  path: z.string().min(1).optional().describe("SQLite file path (opened read-only)"),
});
export type DataSourceInput = z.output<typeof dataSourceInputSchema>;
export interface DataSource extends DataSourceInput {
  createdAt: number;
}

/** Builds the driver for a stored data source with the connection URL resolved from its secret. */
export type SqlDriverFactory = (source: DataSource, connection: { url?: string }) => SqlDriver;

export class DataSourceError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 422,
  ) {
    super(message);
    this.name = "DataSourceError";
  }
}

const PREFIX = "analytics/datasources/";

/** Stored data sources plus one open driver per source; built-in sources (the PGlite sample) come first. */
export class DataSources {
  private readonly drivers = new Map<string, SqlDriver>();

  constructor(
    private readonly kv: KeyValue,
    private readonly secrets: Secrets,
    private readonly factory: SqlDriverFactory,
    private readonly builtin: ReadonlyMap<string, { source: DataSource; driver: SqlDriver }> = new Map(),
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: unknown): Promise<DataSource> {
    const parsed = dataSourceInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DataSourceError(
        `invalid data source: ${issue?.path.join(".") || "body"}: ${issue?.message}`,
        422,
      );
    }
    const source = { ...parsed.data, createdAt: this.now() };
    if (source.engine === "sqlite" ? !source.path : !source.urlSecret) {
      throw new DataSourceError(
        source.engine === "sqlite"
          ? "a sqlite data source needs `path` (the database file)"
          : `a ${source.engine} data source needs \`urlSecret\`: the name of a secret holding its connection URL`,
        422,
      );
    }
    if (this.builtin.has(source.id)) throw new DataSourceError(`data source "${source.id}" is built in`, 409);
    const created = await this.kv.setIfAbsent(PREFIX + source.id, source);
    if (!created.ok) throw new DataSourceError(`data source "${source.id}" already exists`, 409);
    return source;
  }

  async list(): Promise<DataSource[]> {
    const stored: DataSource[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list<DataSource>(PREFIX, cursor === undefined ? {} : { cursor });
      stored.push(...page.entries.map((entry) => entry.value));
      cursor = page.cursor;
    } while (cursor !== undefined);
    return [...[...this.builtin.values()].map((entry) => entry.source), ...stored];
  }

  async get(id: string): Promise<DataSource | undefined> {
    return this.builtin.get(id)?.source ?? (await this.kv.get<DataSource>(PREFIX + id))?.value;
  }

  /** Built-in sources (the PGlite sample) are part of the deployment: not created or deleted through the API. */
  isBuiltin(id: string): boolean {
    return this.builtin.has(id);
  }

  /** The open driver for a data source, or undefined when there is no such source. */
  resolve = async (id: string): Promise<SqlDriver | undefined> => {
    const builtin = this.builtin.get(id);
    if (builtin) return builtin.driver;
    const open = this.drivers.get(id);
    if (open) return open;
    const source = await this.get(id);
    if (!source) return undefined;
    let url: string | undefined;
    if (source.urlSecret) {
      url = await this.secrets.get(source.urlSecret);
      if (url === undefined) {
        const where = this.secrets.describe?.(source.urlSecret) ?? `secret "${source.urlSecret}"`;
        throw new DataSourceError(
          `data source "${id}": its connection URL is not configured (${where})`,
          422,
        );
      }
    }
    const driver = this.factory(source, url === undefined ? {} : { url });
    this.drivers.set(id, driver);
    return driver;
  };

  /** Connects and runs `SELECT 1`; warns when the role could write (a read-only role is recommended). */
  async test(id: string): Promise<{ ok: boolean; canWrite?: boolean; warning?: string; error?: string }> {
    const driver = await this.resolve(id);
    if (!driver) throw new DataSourceError(`no data source "${id}"`, 404);
    try {
      await driver.queryReadOnly("SELECT 1", { timeoutMs: 10_000 });
      const canWrite = (await driver.canWrite?.()) ?? false;
      return canWrite
        ? {
            ok: true,
            canWrite,
            warning:
              "this connection's role can write: queries still run read-only, but use a role with SELECT only (docs/workflows-analytics.md)",
          }
        : { ok: true, canWrite };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async delete(id: string): Promise<boolean> {
    if (this.builtin.has(id))
      throw new DataSourceError(`data source "${id}" is built in and cannot be deleted`, 409);
    const driver = this.drivers.get(id);
    this.drivers.delete(id);
    await driver?.close();
    return this.kv.delete(PREFIX + id);
  }

  async close(): Promise<void> {
    const open = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.allSettled(open.map((driver) => driver.close()));
  }
}
