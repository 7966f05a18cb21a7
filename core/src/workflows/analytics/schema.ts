import type { KeyValue } from "../../ports/kv.js";
import type { SqlDriver, SqlEngine } from "./driver.js";

export interface SchemaColumn {
  name: string;
  type: string;
  nullable: boolean;
  primaryKey: boolean;
  /** `table.column` this column references, when it is a foreign key. */
  references?: string;
  /** A few distinct values seen in the table (strings cut to 40 characters). */
  samples: unknown[];
}

export interface SchemaTable {
  /** Schema-qualified for PostgreSQL outside `public`, bare otherwise. */
  name: string;
  /** The planner's estimate (PostgreSQL reltuples, MySQL table_rows) or an exact count on SQLite. */
  rowEstimate: number;
  columns: SchemaColumn[];
}

export interface SchemaInfo {
  engine: SqlEngine;
  tables: SchemaTable[];
  /** Epoch ms when it was read. */
  introspectedAt: number;
}

const CATALOG_TIMEOUT_MS = 10_000;
const MAX_TABLES = 200;
const SAMPLE_VALUES = 3;

/** Reads tables, columns, types, keys, row estimates and sample values through the read-only path. */
export async function introspectSchema(driver: SqlDriver, now: () => number = Date.now): Promise<SchemaInfo> {
  const run = async (sql: string) =>
    (await driver.queryReadOnly(sql, { timeoutMs: CATALOG_TIMEOUT_MS })).rows;
  const tables: SchemaTable[] = [];
  if (driver.engine === "sqlite") {
    const names = await run(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name LIMIT ${MAX_TABLES}`,
    );
    for (const [name] of names) {
      const table = String(name);
      const quoted = quoteIdent(table, '"');
      const info = await run(
        `SELECT name, type, "notnull", pk FROM pragma_table_info('${table.replaceAll("'", "''")}')`,
      );
      const fks = await run(
        `SELECT "from", "table", "to" FROM pragma_foreign_key_list('${table.replaceAll("'", "''")}')`,
      );
      const [[count]] = (await run(`SELECT count(*) FROM ${quoted}`)) as [[number]];
      tables.push({
        name: table,
        rowEstimate: Number(count),
        columns: info.map(([column, type, notnull, pk]) => ({
          name: String(column),
          type: String(type || "any").toLowerCase(),
          nullable: Number(notnull) === 0,
          primaryKey: Number(pk) > 0,
          ...foreignKey(fks, String(column)),
          samples: [],
        })),
      });
    }
  } else {
    const postgres = driver.engine === "postgres" || driver.engine === "pglite";
    const tableRows = postgres
      ? await run(
          `SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
           ORDER BY 1, 2 LIMIT ${MAX_TABLES}`,
        )
      : await run(
          `SELECT table_schema, table_name, coalesce(table_rows, 0) FROM information_schema.tables
           WHERE table_schema = DATABASE() ORDER BY table_name LIMIT ${MAX_TABLES}`,
        );
    const columnRows = await run(
      `SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable,
              (SELECT count(*) FROM information_schema.key_column_usage k JOIN information_schema.table_constraints t
                 ON t.constraint_name = k.constraint_name AND t.table_schema = k.table_schema AND t.table_name = k.table_name
               WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema AND k.table_name = c.table_name
                 AND k.column_name = c.column_name) AS pk
       FROM information_schema.columns c
       WHERE ${postgres ? "c.table_schema NOT IN ('pg_catalog', 'information_schema')" : "c.table_schema = DATABASE()"}
       ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
    );
    for (const [schema, name, estimate] of tableRows) {
      const qualified = postgres && schema !== "public" ? `${schema}.${name}` : String(name);
      tables.push({
        name: qualified,
        rowEstimate: Number(estimate),
        columns: columnRows
          .filter(([s, t]) => s === schema && t === name)
          .map(([, , column, type, nullable, pk]) => ({
            name: String(column),
            type: String(type).toLowerCase(),
            nullable: nullable === "YES",
            primaryKey: Number(pk) > 0,
            samples: [],
          })),
      });
    }
  }
  const quote = driver.engine === "mysql" || driver.engine === "mariadb" ? "`" : '"';
  for (const table of tables) {
    const from = table.name
      .split(".")
      .map((part) => quoteIdent(part, quote))
      .join(".");
    for (const column of table.columns) {
      const col = quoteIdent(column.name, quote);
      try {
        const rows = await run(
          `SELECT DISTINCT ${col} FROM (SELECT ${col} FROM ${from} WHERE ${col} IS NOT NULL LIMIT 200) AS s LIMIT ${SAMPLE_VALUES}`,
        );
        column.samples = rows.map(([value]) =>
          typeof value === "string" && value.length > 40 ? `${value.slice(0, 40)}…` : value,
        );
      } catch {
        column.samples = [];
      }
    }
  }
  return { engine: driver.engine, tables, introspectedAt: now() };
}

function foreignKey(fks: unknown[][], column: string): { references?: string } {
  const fk = fks.find(([from]) => from === column);
  return fk ? { references: `${String(fk[1])}.${String(fk[2])}` } : {};
}

function quoteIdent(name: string, quote: string): string {
  return `${quote}${name.replaceAll(quote, quote + quote)}${quote}`;
}

/**
 * The schema as the agent sees it: one line per table with its columns, types, keys and samples,
 * cut to `budgetChars` (samples go first, then whole tables, with a note saying how many were left out).
 */
export function renderSchema(schema: SchemaInfo, budgetChars = 6000): string {
  const render = (withSamples: boolean) =>
    schema.tables.map((table) => {
      const columns = table.columns.map((column) => {
        const flags = [
          column.primaryKey ? "pk" : "",
          column.references ? `→${column.references}` : "",
          column.nullable ? "" : "not null",
        ]
          .filter(Boolean)
          .join(" ");
        const samples =
          withSamples && column.samples.length > 0
            ? ` e.g. ${column.samples.map((v) => JSON.stringify(v)).join(", ")}`
            : "";
        return `${column.name} ${column.type}${flags ? ` ${flags}` : ""}${samples}`;
      });
      return `${table.name} (~${table.rowEstimate} rows): ${columns.join("; ")}`;
    });
  const header = `${schema.engine} schema, ${schema.tables.length} tables`;
  for (const withSamples of [true, false]) {
    const lines = render(withSamples);
    const text = [header, ...lines].join("\n");
    if (text.length <= budgetChars) return text;
    if (!withSamples) {
      const kept: string[] = [header];
      let size = header.length;
      for (const line of lines) {
        if (size + line.length + 80 > budgetChars) break;
        kept.push(line);
        size += line.length + 1;
      }
      kept.push(
        `… ${lines.length - (kept.length - 1)} more tables not shown (ask sql.schema for a table by name)`,
      );
      return kept.join("\n");
    }
  }
  return header;
}

/** The introspected schema per data source, cached in KeyValue until refreshed. */
export class SchemaCache {
  constructor(
    private readonly kv: KeyValue,
    private readonly ttlMs = 24 * 60 * 60 * 1000,
  ) {}

  async get(
    datasourceId: string,
    driver: SqlDriver,
    options: { refresh?: boolean } = {},
  ): Promise<SchemaInfo> {
    const key = `analytics/schema/${datasourceId}`;
    if (!options.refresh) {
      const cached = await this.kv.get<SchemaInfo>(key);
      if (cached) return cached.value;
    }
    const schema = await introspectSchema(driver);
    await this.kv.set(key, schema, { ttlMs: this.ttlMs });
    return schema;
  }
}
