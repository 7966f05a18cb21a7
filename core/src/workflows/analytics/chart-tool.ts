import { z } from "zod";
import type { Tool } from "../../tools/types.js";
import { type ChartSpec, chartSpecSchema, fitChart } from "./chart.js";

const input = z.strictObject({
  spec: z.unknown().optional().describe("The proposed chart spec; absent: choose one from the columns"),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
});
const output = z.strictObject({ chart: chartSpecSchema, note: z.string().optional() });

/**
 * `analytics.chart`: checks a chart spec against a result's columns (kinds bar, line, area, scatter,
 * pie, table; columns that exist; numeric y) and falls back to a chart chosen from the column types.
 */
export function analyticsChartTool(): Tool<z.output<typeof input>, { chart: ChartSpec; note?: string }> {
  return {
    name: "analytics.chart",
    description:
      "Check a chart spec against a query result's columns; an invalid or unfitting spec is replaced by one chosen from the column types.",
    input,
    output,
    async run({ spec, columns }) {
      return fitChart(spec, columns);
    },
  };
}
