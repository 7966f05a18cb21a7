import { type AatClient, type Schema, unwrap } from "@aat/sdk";

// Analytics calls through the SDK client (same auth, same problem+json errors). The ask plan's run
// output is not described by the OpenAPI document (it is the plan's outputs), so its shape is here.

export type DataSource = Schema<"DataSource">;
export type DataSourceSchema = Schema<"DataSourceSchema">;
export type QueryResult = Schema<"AnalyticsQueryResult">;
export type SavedQuestion = Schema<"SavedQuestion">;
export type ChartSpec = Schema<"ChartSpec">;
export type ChartType = ChartSpec["type"];
export const CHART_TYPES: ChartType[] = ["bar", "line", "area", "scatter", "pie", "table"];

export interface ResultColumn {
  name: string;
  type: string;
}

/** plans/analytics/ask.yaml's outputs. */
export interface AskOutput {
  mode: "sql" | "model" | "offline";
  sql?: string;
  columns?: ResultColumn[];
  rows?: unknown[][];
  rowCount?: number;
  truncated?: false | "rows" | "bytes";
  chart?: ChartSpec;
  summary?: string;
  repaired?: boolean;
  error?: string;
  hints?: string;
}

export async function listDataSources(client: AatClient): Promise<DataSource[]> {
  return (await unwrap(client.api.GET("/v1/analytics/datasources"))).items;
}

export async function getSchema(client: AatClient, id: string, refresh = false): Promise<DataSourceSchema> {
  const params = { params: { path: { id } } };
  return refresh
    ? unwrap(client.api.POST("/v1/analytics/datasources/{id}/schema/refresh", params))
    : unwrap(client.api.GET("/v1/analytics/datasources/{id}/schema", params));
}

export async function runQuery(
  client: AatClient,
  datasourceId: string,
  sql: string,
  pageSize = 1000,
): Promise<QueryResult> {
  return unwrap(
    client.api.POST("/v1/analytics/query", {
      body: { datasourceId, sql, pageSize, page: 1, format: "json" },
    }),
  ) as Promise<QueryResult>;
}

/** The query's rows as CSV (up to 10,000), fetched with the client's credentials. */
export async function downloadCsv(client: AatClient, datasourceId: string, sql: string): Promise<Blob> {
  const response = await client.api.POST("/v1/analytics/query", {
    body: { datasourceId, sql, pageSize: 10_000, page: 1, format: "csv" },
    parseAs: "blob",
  });
  return response.data as unknown as Blob;
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Starts analytics.ask and waits for its run; `onStatus` hears the run's status while it goes. */
export async function ask(
  client: AatClient,
  datasourceId: string,
  question: string,
  onStatus: (status: string, runId: string) => void = () => {},
  signal?: AbortSignal,
): Promise<{ runId: string; output: AskOutput }> {
  const started = await unwrap(client.api.POST("/v1/analytics/ask", { body: { datasourceId, question } }));
  const runId = started.runId;
  onStatus(started.status, runId);
  for (let delay = 150; ; delay = Math.min(1000, delay * 1.5)) {
    if (signal?.aborted) throw new Error("stopped");
    const view = await unwrap(client.api.GET("/v1/runs/{id}", { params: { path: { id: runId } } }));
    const run = view.run as { status: string; output?: unknown; error?: { message?: string } };
    onStatus(run.status, runId);
    if (TERMINAL.has(run.status)) {
      if (run.status !== "succeeded") {
        throw new Error(
          `the ask run ${runId} ${run.status}${run.error?.message ? `: ${run.error.message}` : ""}`,
        );
      }
      return { runId, output: run.output as AskOutput };
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export async function listQuestions(client: AatClient, datasourceId: string): Promise<SavedQuestion[]> {
  return (await unwrap(client.api.GET("/v1/analytics/questions", { params: { query: { datasourceId } } })))
    .items;
}

export async function saveQuestion(
  client: AatClient,
  body: { datasourceId: string; title: string; sql: string; question?: string; chart?: ChartSpec },
): Promise<SavedQuestion> {
  return unwrap(client.api.POST("/v1/analytics/questions", { body }));
}

export async function deleteQuestion(client: AatClient, id: string): Promise<void> {
  await unwrap(client.api.DELETE("/v1/analytics/questions/{id}", { params: { path: { id } } }));
}

const NUMERIC =
  /^(int|integer|smallint|bigint|tinyint|mediumint|int[248]|float[48]?|double|real|numeric|decimal|number|money|serial)/i;
const TEMPORAL = /^(date|time|timestamp|timestamptz|datetime|year)/i;
export const isNumeric = (type: string) => NUMERIC.test(type.trim());
export const isTemporal = (type: string) => TEMPORAL.test(type.trim());

/** The same choice as the server's suggestChart (core/src/workflows/analytics/chart.ts), for SQL run here. */
export function suggestChart(columns: ResultColumn[]): ChartSpec {
  const numeric = columns.filter((c) => isNumeric(c.type));
  const first = columns[0];
  if (!first || columns.length < 2 || numeric.length === 0) return { type: "table" };
  if (!isNumeric(first.type)) {
    const y = columns
      .slice(1)
      .filter((c) => isNumeric(c.type))
      .slice(0, 5)
      .map((c) => c.name);
    return y.length === 0
      ? { type: "table" }
      : { type: isTemporal(first.type) ? "line" : "bar", x: first.name, y };
  }
  if (numeric.length >= 2 && columns.length === 2)
    return { type: "scatter", x: first.name, y: [columns[1]!.name] };
  return { type: "table" };
}

/** Whether a spec can be drawn from these columns (x exists; y columns exist and are numeric). */
export function chartFits(spec: ChartSpec, columns: ResultColumn[]): boolean {
  if (spec.type === "table") return true;
  const byName = new Map(columns.map((c) => [c.name, c]));
  return (
    spec.x !== undefined &&
    byName.has(spec.x) &&
    (spec.y ?? []).length > 0 &&
    (spec.y ?? []).every((name) => {
      const column = byName.get(name);
      return column !== undefined && isNumeric(column.type);
    })
  );
}
