import { z } from "zod";
import { ToolError } from "../../tools/errors.js";
import type { Tool } from "../../tools/types.js";
import { type SqlDriver, SqlExecutionError } from "./driver.js";
import { checkReadOnly, SqlRefusedError } from "./read-only-guard.js";
import { renderSchema, type SchemaCache } from "./schema.js";
import type { SqlDriverResolver } from "./sql-query-tool.js";

const schemaInput = z.strictObject({
  datasourceId: z.string().min(1),
  refresh: z.boolean().optional().describe("Read the schema again instead of using the cached copy"),
  budgetChars: z.number().int().min(200).max(50_000).optional(),
});
const schemaOutput = z.strictObject({ engine: z.string(), tables: z.number().int(), schema: z.string() });

/** `sql.schema`: the data source's tables, columns, types, keys and sample values, compactly. */
export function sqlSchemaTool(
  resolve: SqlDriverResolver,
  cache: SchemaCache,
): Tool<z.output<typeof schemaInput>, z.output<typeof schemaOutput>> {
  return {
    name: "sql.schema",
    description:
      "Describe a data source: tables with approximate row counts, columns with types, keys and a few sample values. Read it before writing SQL.",
    input: schemaInput,
    output: schemaOutput,
    async run({ datasourceId, refresh, budgetChars }) {
      const driver = await requireDriver(resolve, datasourceId);
      const schema = await cache.get(datasourceId, driver, { refresh: refresh ?? false });
      return {
        engine: schema.engine,
        tables: schema.tables.length,
        schema: renderSchema(schema, budgetChars),
      };
    },
  };
}

const explainInput = z.strictObject({ datasourceId: z.string().min(1), sql: z.string().min(1).max(100_000) });
const explainOutput = z.strictObject({ plan: z.string() });

/** `sql.explain`: the database's plan for a read-only query, without running it (no ANALYZE). */
export function sqlExplainTool(
  resolve: SqlDriverResolver,
  timeoutMs = 10_000,
): Tool<z.output<typeof explainInput>, z.output<typeof explainOutput>> {
  return {
    name: "sql.explain",
    description:
      "Show how the database would run a read-only SELECT (its query plan) without running it; the same read-only checks as sql.query apply.",
    input: explainInput,
    output: explainOutput,
    async run({ datasourceId, sql }) {
      const driver = await requireDriver(resolve, datasourceId);
      try {
        const checked = checkReadOnly(sql, driver.engine, { timeoutMs });
        const prefix = driver.engine === "sqlite" ? "EXPLAIN QUERY PLAN" : "EXPLAIN";
        const result = await driver.queryReadOnly(`${prefix} ${checked.sql}`, { timeoutMs });
        const plan = result.rows.map((row) =>
          row.map((value) => (value === null ? "" : String(value))).join(" | "),
        );
        return { plan: plan.join("\n") };
      } catch (error) {
        if (error instanceof SqlRefusedError) {
          throw new ToolError(error.message, {
            code: "sql_refused",
            retryable: false,
            details: { reason: error.reason },
          });
        }
        if (error instanceof SqlExecutionError)
          throw new ToolError(error.message, { code: "sql_error", retryable: false });
        throw error;
      }
    },
  };
}

async function requireDriver(resolve: SqlDriverResolver, datasourceId: string): Promise<SqlDriver> {
  const driver = await resolve(datasourceId);
  if (!driver) {
    throw new ToolError(
      `no data source "${datasourceId}": list data sources with GET /v1/analytics/datasources`,
      {
        code: "not_found",
        retryable: false,
      },
    );
  }
  return driver;
}
