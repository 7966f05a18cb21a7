import { z } from "zod";
import type { SqlColumn } from "./driver.js";

/** The chart kinds analytics draws; anything else is refused by the schema. */
export const CHART_TYPES = ["bar", "line", "area", "scatter", "pie", "table"] as const;
export type ChartType = (typeof CHART_TYPES)[number];

const column = z.string().min(1).max(200);

/**
 * A small chart spec: which kind, which result column is the x axis (pie: the labels) and which
 * numeric columns are plotted (pie: the first). `table` needs neither.
 */
export const chartSpecSchema = z
  .strictObject({
    type: z.enum(CHART_TYPES),
    x: column.optional().describe("Column for the x axis (pie: the slice labels)"),
    y: z.array(column).min(1).max(5).optional().describe("Numeric columns to plot (pie: the first)"),
    title: z.string().max(200).optional(),
  })
  .meta({ id: "ChartSpec" });
export type ChartSpec = z.output<typeof chartSpecSchema>;

const NUMERIC =
  /^(int|integer|smallint|bigint|tinyint|mediumint|int[248]|float[48]?|double|real|numeric|decimal|number|money|serial)/i;
const TEMPORAL = /^(date|time|timestamp|timestamptz|datetime|year)/i;

export function isNumericType(type: string): boolean {
  return NUMERIC.test(type.trim());
}

export function isTemporalType(type: string): boolean {
  return TEMPORAL.test(type.trim());
}

/**
 * A chart that fits the result's columns without a model: a time column and numbers → line; a
 * category and numbers → bar; two numbers → scatter; anything else → table.
 */
export function suggestChart(columns: readonly SqlColumn[]): ChartSpec {
  const numeric = columns.filter((c) => isNumericType(c.type));
  const first = columns[0];
  if (!first || columns.length < 2 || numeric.length === 0) return { type: "table" };
  if (!isNumericType(first.type)) {
    const y = columns
      .slice(1)
      .filter((c) => isNumericType(c.type))
      .slice(0, 5)
      .map((c) => c.name);
    if (y.length === 0) return { type: "table" };
    return { type: isTemporalType(first.type) ? "line" : "bar", x: first.name, y };
  }
  if (numeric.length >= 2 && columns.length === 2) {
    return { type: "scatter", x: first.name, y: [columns[1]!.name] };
  }
  return { type: "table" };
}

/**
 * Checks a proposed spec (from a model or a saved question) against the result's columns. A spec that
 * does not parse, or names columns the result lacks, or plots non-numeric columns, becomes the
 * suggested chart, and `note` says why.
 */
export function fitChart(
  proposed: unknown,
  columns: readonly SqlColumn[],
): { chart: ChartSpec; note?: string } {
  if (proposed === undefined || proposed === null) return { chart: suggestChart(columns) };
  const parsed = chartSpecSchema.safeParse(proposed);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      chart: suggestChart(columns),
      note: `the proposed chart was invalid (${issue?.path.join(".") || "spec"}: ${issue?.message}); a chart was chosen from the columns instead`,
    };
  }
  const spec = parsed.data;
  if (spec.type === "table")
    return { chart: { type: "table", ...(spec.title ? { title: spec.title } : {}) } };
  const byName = new Map(columns.map((c) => [c.name, c]));
  const problems: string[] = [];
  if (!spec.x || !byName.has(spec.x)) problems.push(`x column "${spec.x ?? ""}" is not in the result`);
  for (const name of spec.y ?? []) {
    const col = byName.get(name);
    if (!col) problems.push(`y column "${name}" is not in the result`);
    else if (!isNumericType(col.type)) problems.push(`y column "${name}" is not numeric (${col.type})`);
  }
  if (!spec.y || spec.y.length === 0) problems.push("no y column");
  if (problems.length > 0) {
    return {
      chart: suggestChart(columns),
      note: `the proposed ${spec.type} chart does not fit the result (${problems.join("; ")}); a chart was chosen from the columns instead`,
    };
  }
  return { chart: spec };
}
