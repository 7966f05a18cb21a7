import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { PlanNotFoundError } from "../../runner/errors.js";
import { toCsv } from "../../workflows/analytics/csv.js";
import {
  type DataSource,
  DataSourceError,
  type DataSources,
  dataSourceInputSchema,
} from "../../workflows/analytics/datasources.js";
import { type SqlDriver, SqlExecutionError } from "../../workflows/analytics/driver.js";
import { SqlRefusedError } from "../../workflows/analytics/read-only-guard.js";
import {
  DEFAULT_QUERY_LIMITS,
  type QueryLimits,
  runReadOnlyQuery,
} from "../../workflows/analytics/run-query.js";
import {
  SavedQuestions,
  savedQuestionInputSchema,
  savedQuestionSchema,
} from "../../workflows/analytics/saved-questions.js";
import { renderSchema, type SchemaCache } from "../../workflows/analytics/schema.js";
import { type ApiApp, type ApiContext, runLinks } from "../context.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";

/** What the analytics routes need; the runtime builds it (docs/workflows-analytics.md). */
export interface AnalyticsApiDeps {
  sources: DataSources;
  schemas: SchemaCache;
  /** True when only the offline model is configured: questions in words cannot be answered. */
  offline: () => boolean;
  /** Limits of direct queries (rows per page are capped by maxRows). */
  limits?: Partial<QueryLimits>;
  /** The plan POST /v1/analytics/ask starts (default analytics.ask). */
  askPlanId?: string;
}

export const ASK_PLAN_ID = "analytics.ask";

const tags = ["analytics"];
/** Reading data through analytics: the roles that ask questions of data. */
const READERS = allowRoles("analyst", "responder", "developer");
/** Data sources hold credentials (by reference): admins manage them. */
const ADMIN = allowRoles();

const idParams = z.object({ id: z.string().min(1).max(200) });

const dataSourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    engine: z.string(),
    urlSecret: z
      .string()
      .optional()
      .meta({ description: "The name of the secret holding the connection URL; the URL is never returned." }),
    path: z.string().optional(),
    builtin: z.boolean(),
    createdAt: z.number().int(),
  })
  .meta({ id: "DataSource" });

const testResult = z
  .object({
    ok: z.boolean(),
    canWrite: z.boolean().optional(),
    warning: z.string().optional(),
    error: z.string().optional(),
  })
  .meta({ id: "DataSourceTest" });

const columnSchema = z.object({ name: z.string(), type: z.string() });

const schemaResponse = z
  .object({
    datasourceId: z.string(),
    engine: z.string(),
    introspectedAt: z.number().int(),
    tables: z.array(
      z.object({
        name: z.string(),
        rowEstimate: z.number(),
        columns: z.array(
          z.object({
            name: z.string(),
            type: z.string(),
            nullable: z.boolean(),
            primaryKey: z.boolean(),
            references: z.string().optional(),
            samples: z.array(z.unknown()),
          }),
        ),
      }),
    ),
    text: z.string().meta({ description: "The compact form the agent sees." }),
  })
  .meta({ id: "DataSourceSchema" });

const queryBody = z
  .strictObject({
    datasourceId: z.string().min(1).max(200),
    sql: z.string().trim().min(1, "must not be empty: send one SELECT statement").max(100_000),
    page: z.number().int().min(1).max(10_000).default(1).meta({ description: "1-based page number." }),
    pageSize: z.number().int().min(1).max(10_000).default(100),
    format: z
      .enum(["json", "csv"])
      .default("json")
      .meta({ description: "csv: the page as a text/csv download (pageSize up to 10,000 rows)." }),
  })
  .meta({ id: "AnalyticsQuery" });

const queryResponse = z
  .object({
    columns: z.array(columnSchema),
    rows: z.array(z.array(z.unknown())),
    rowCount: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
    hasMore: z.boolean().meta({ description: "More rows follow this page." }),
    truncated: z
      .union([z.literal(false), z.literal("bytes")])
      .meta({ description: "bytes: the result size cap cut this page short." }),
    elapsedMs: z.number(),
  })
  .meta({ id: "AnalyticsQueryResult" });

const askBody = z
  .strictObject({
    datasourceId: z.string().min(1).max(200),
    question: z
      .string()
      .trim()
      .min(1, "must not be empty: ask a question or send a SELECT")
      .max(4000, "may be at most 4,000 characters"),
  })
  .meta({ id: "AnalyticsAsk" });

const askResponse = z
  .object({
    runId: z.string(),
    status: z.string(),
    plan: z.object({ id: z.string(), version: z.number().int() }),
    offline: z.boolean().meta({ description: "No model is configured: only SQL questions are answered." }),
    links: z.object({ self: z.string(), events: z.string(), cancel: z.string() }),
  })
  .meta({ id: "AnalyticsAskStarted" });

const questionsQuery = z.object({ datasourceId: z.string().min(1).max(200).optional() });

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const createSource = createRoute({
  method: "post",
  path: "/v1/analytics/datasources",
  tags,
  summary: "Add a data source",
  description:
    "The connection URL is never sent or stored: `urlSecret` names the secret holding it (with the default secrets, the environment variable AAT_SECRET_<NAME>, e.g. warehouse-url → AAT_SECRET_WAREHOUSE_URL). SQLite sources name a file (`path`), opened read-only.",
  ...ADMIN,
  request: { body: { required: true, content: { "application/json": { schema: dataSourceInputSchema } } } },
  responses: {
    201: json(dataSourceSchema, "The data source."),
    ...problems(...AUTH_PROBLEMS, 400, 409, 415, 422),
  },
});

const listSources = createRoute({
  method: "get",
  path: "/v1/analytics/datasources",
  tags,
  summary: "List data sources (built-in first)",
  ...READERS,
  responses: {
    200: json(z.object({ items: z.array(dataSourceSchema) }), "The data sources."),
    ...problems(...AUTH_PROBLEMS),
  },
});

const getSource = createRoute({
  method: "get",
  path: "/v1/analytics/datasources/{id}",
  tags,
  summary: "Read a data source",
  ...READERS,
  request: { params: idParams },
  responses: { 200: json(dataSourceSchema, "The data source."), ...problems(...AUTH_PROBLEMS, 404) },
});

const testSource = createRoute({
  method: "post",
  path: "/v1/analytics/datasources/{id}/test",
  tags,
  summary: "Test the connection; warns when the role can write",
  ...ADMIN,
  request: { params: idParams },
  responses: {
    200: json(testResult, "ok false with error when the connection failed."),
    ...problems(...AUTH_PROBLEMS, 404, 422),
  },
});

const deleteSource = createRoute({
  method: "delete",
  path: "/v1/analytics/datasources/{id}",
  tags,
  summary: "Delete a data source (its secret is left alone)",
  ...ADMIN,
  request: { params: idParams },
  responses: { 204: { description: "Deleted." }, ...problems(...AUTH_PROBLEMS, 404, 409) },
});

const getSchema = createRoute({
  method: "get",
  path: "/v1/analytics/datasources/{id}/schema",
  tags,
  summary: "Tables, columns, keys, row estimates and sample values (cached)",
  ...READERS,
  request: { params: idParams },
  responses: {
    200: json(schemaResponse, "The schema."),
    ...problems(...AUTH_PROBLEMS, 404, 422, 503),
  },
});

const refreshSchema = createRoute({
  method: "post",
  path: "/v1/analytics/datasources/{id}/schema/refresh",
  tags,
  summary: "Read the schema again and replace the cached copy",
  ...READERS,
  request: { params: idParams },
  responses: {
    200: json(schemaResponse, "The schema."),
    ...problems(...AUTH_PROBLEMS, 404, 422, 503),
  },
});

const runQuery = createRoute({
  method: "post",
  path: "/v1/analytics/query",
  tags,
  summary: "Run read-only SQL: one page of rows, or CSV",
  description:
    "One SELECT or WITH … SELECT, checked by the parser and run in a read-only transaction under a statement timeout. Anything else is refused with 422 (kind sql-refused); a database error is 422 (kind sql-error) with the database's message. Give the query an ORDER BY for stable pages.",
  ...READERS,
  request: { body: { required: true, content: { "application/json": { schema: queryBody } } } },
  responses: {
    200: {
      description: "The page (JSON), or the rows as text/csv when format is csv.",
      content: {
        "application/json": { schema: queryResponse },
        "text/csv": { schema: z.string().meta({ description: "RFC 4180 CSV with a header row." }) },
      },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404, 415, 422, 503),
  },
});

const ask = createRoute({
  method: "post",
  path: "/v1/analytics/ask",
  tags,
  summary: "Ask a question of a data source; starts a run of analytics.ask",
  description:
    "Answers through the run (GET /v1/runs/{id}, or its event stream): output has sql, columns, rows, chart, summary. A question that is a SELECT runs as-is; other questions need a configured model (without one, the output says so and lists the tables).",
  ...READERS,
  request: { body: { required: true, content: { "application/json": { schema: askBody } } } },
  responses: {
    202: json(askResponse, "The run started."),
    ...problems(...AUTH_PROBLEMS, 400, 404, 415, 422, 503),
  },
});

const createQuestion = createRoute({
  method: "post",
  path: "/v1/analytics/questions",
  tags,
  summary: "Save a question with its SQL and chart",
  ...READERS,
  request: {
    body: { required: true, content: { "application/json": { schema: savedQuestionInputSchema } } },
  },
  responses: {
    201: json(savedQuestionSchema, "The saved question."),
    ...problems(...AUTH_PROBLEMS, 400, 404, 415, 422),
  },
});

const listQuestions = createRoute({
  method: "get",
  path: "/v1/analytics/questions",
  tags,
  summary: "Saved questions, newest first",
  ...READERS,
  request: { query: questionsQuery },
  responses: {
    200: json(z.object({ items: z.array(savedQuestionSchema) }), "The saved questions."),
    ...problems(...AUTH_PROBLEMS, 400),
  },
});

const deleteQuestion = createRoute({
  method: "delete",
  path: "/v1/analytics/questions/{id}",
  tags,
  summary: "Delete a saved question",
  ...READERS,
  request: { params: idParams },
  responses: { 204: { description: "Deleted." }, ...problems(...AUTH_PROBLEMS, 404) },
});

/** The analytics routes (docs/workflows-analytics.md); mounted when the API is given analytics deps. */
export function registerAnalyticsRoutes(app: ApiApp, ctx: ApiContext, analytics: AnalyticsApiDeps): void {
  const { sources, schemas } = analytics;
  const limits = { ...DEFAULT_QUERY_LIMITS, ...analytics.limits };
  const questions = new SavedQuestions(ctx.deps.kv, () => ctx.deps.clock.now());
  const view = (source: DataSource, builtin: boolean) => ({
    id: source.id,
    name: source.name,
    engine: source.engine,
    ...(source.urlSecret !== undefined ? { urlSecret: source.urlSecret } : {}),
    ...(source.path !== undefined ? { path: source.path } : {}),
    builtin,
    createdAt: source.createdAt,
  });

  app.openapi(createSource, async (c) => {
    const body = c.req.valid("json");
    c.set("audit", { target: `datasource:${body.id}` });
    const source = await mapped(() => sources.create(body));
    return c.json(view(source, false), 201, {
      Location: `/v1/analytics/datasources/${encodeURIComponent(source.id)}`,
    });
  });

  app.openapi(listSources, async (c) => {
    return c.json({ items: (await sources.list()).map((s) => view(s, sources.isBuiltin(s.id))) }, 200);
  });

  app.openapi(getSource, async (c) => {
    const { id } = c.req.valid("param");
    const source = await sourceOrThrow(sources, id);
    return c.json(view(source, sources.isBuiltin(id)), 200);
  });

  app.openapi(testSource, async (c) => {
    const { id } = c.req.valid("param");
    c.set("audit", { target: `datasource:${id}` });
    return c.json(await mapped(() => sources.test(id)), 200);
  });

  app.openapi(deleteSource, async (c) => {
    const { id } = c.req.valid("param");
    c.set("audit", { target: `datasource:${id}` });
    const deleted = await mapped(() => sources.delete(id));
    if (!deleted) throw notFound(id);
    return c.body(null, 204);
  });

  const schemaOf = async (id: string, refresh: boolean) => {
    const driver = await driverOrThrow(sources, id);
    const schema = await mapped(() => schemas.get(id, driver, { refresh }));
    return { datasourceId: id, ...schema, text: renderSchema(schema) };
  };
  app.openapi(getSchema, async (c) => c.json(await schemaOf(c.req.valid("param").id, false), 200));
  app.openapi(refreshSchema, async (c) => c.json(await schemaOf(c.req.valid("param").id, true), 200));

  app.openapi(runQuery, async (c) => {
    const body = c.req.valid("json");
    const driver = await driverOrThrow(sources, body.datasourceId);
    const pageSize = Math.min(body.pageSize, body.format === "csv" ? 10_000 : limits.maxRows);
    const started = performance.now();
    const result = await mapped(() =>
      runReadOnlyQuery(
        driver,
        body.sql,
        { ...limits, maxRows: pageSize },
        { offset: (body.page - 1) * pageSize },
      ),
    );
    const elapsedMs = Math.round((performance.now() - started) * 10) / 10;
    if (body.format === "csv") {
      return c.body(toCsv(result.columns, result.rows), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${body.datasourceId}-query.csv"`,
        ...(result.truncated ? { "X-Aat-Truncated": String(result.truncated) } : {}),
      }) as never;
    }
    return c.json(
      {
        columns: result.columns,
        rows: result.rows,
        rowCount: result.rowCount,
        page: body.page,
        pageSize,
        hasMore: result.truncated === "rows",
        truncated: result.truncated === "bytes" ? ("bytes" as const) : (false as const),
        elapsedMs,
      },
      200,
    );
  });

  app.openapi(ask, async (c) => {
    const body = c.req.valid("json");
    await driverOrThrow(sources, body.datasourceId);
    const offline = analytics.offline();
    const planId = analytics.askPlanId ?? ASK_PLAN_ID;
    let started: Awaited<ReturnType<typeof ctx.starter.start>>;
    try {
      started = await ctx.starter.start(
        { planId, input: { datasourceId: body.datasourceId, question: body.question, offline } },
        c.get("principal").id,
      );
    } catch (error) {
      if (error instanceof PlanNotFoundError && error.planId === planId) {
        throw new ApiProblem(503, {
          kind: "analytics-plan-missing",
          detail: `the plan "${planId}" is not loaded on this server: add the shipped plans folder (plans/) to plans.directories or publish plans/analytics/ask.yaml`,
        });
      }
      throw error;
    }
    c.set("audit", {
      target: `run:${started.runId}`,
      details: { datasourceId: body.datasourceId, planId },
    });
    const links = runLinks(started.runId);
    return c.json(
      {
        runId: started.runId,
        status: started.state.status,
        plan: { id: started.state.plan.id, version: started.state.plan.version },
        offline,
        links,
      },
      202,
      { Location: links.self },
    );
  });

  app.openapi(createQuestion, async (c) => {
    const body = c.req.valid("json");
    await sourceOrThrow(sources, body.datasourceId);
    const saved = await questions.create(body, c.get("principal").id);
    c.set("audit", { target: `analytics-question:${saved.id}` });
    return c.json(saved, 201, { Location: `/v1/analytics/questions/${encodeURIComponent(saved.id)}` });
  });

  app.openapi(listQuestions, async (c) => {
    const { datasourceId } = c.req.valid("query");
    return c.json({ items: await questions.list(datasourceId) }, 200);
  });

  app.openapi(deleteQuestion, async (c) => {
    const { id } = c.req.valid("param");
    c.set("audit", { target: `analytics-question:${id}` });
    if (!(await questions.delete(id))) {
      throw new ApiProblem(404, {
        kind: "not-found",
        detail: `no saved question "${id}"; GET /v1/analytics/questions lists them`,
      });
    }
    return c.body(null, 204);
  });
}

async function sourceOrThrow(sources: DataSources, id: string): Promise<DataSource> {
  const source = await sources.get(id);
  if (!source) throw notFound(id);
  return source;
}

async function driverOrThrow(sources: DataSources, id: string): Promise<SqlDriver> {
  const driver = await mapped(() => sources.resolve(id));
  if (!driver) throw notFound(id);
  return driver;
}

function notFound(id: string): ApiProblem {
  return new ApiProblem(404, {
    kind: "not-found",
    detail: `no data source "${id}"; GET /v1/analytics/datasources lists them`,
  });
}

/** Runs an analytics call, turning its errors (refusals, database errors, bad sources) into problems. */
async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DataSourceError) {
      throw new ApiProblem(error.status, {
        kind: error.status === 404 ? "not-found" : error.status === 409 ? "conflict" : "validation",
        detail: error.message,
      });
    }
    if (error instanceof SqlRefusedError) {
      throw new ApiProblem(422, {
        kind: "sql-refused",
        detail: error.message,
        extra: { reason: error.reason },
      });
    }
    if (error instanceof SqlExecutionError) {
      throw new ApiProblem(422, {
        kind: error.timedOut ? "sql-timeout" : "sql-error",
        detail: error.message,
      });
    }
    throw error;
  }
}
