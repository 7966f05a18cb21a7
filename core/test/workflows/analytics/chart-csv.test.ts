import { describe, expect, it } from "vitest";
import { fitChart, suggestChart, toCsv, wrapWithLimit } from "../../../src/index.js";

const cols = (...pairs: Array<[string, string]>) => pairs.map(([name, type]) => ({ name, type }));

describe("chart specs", () => {
  it("suggests a chart from the column types", () => {
    expect(suggestChart(cols(["severity", "text"], ["n", "int8"]))).toEqual({
      type: "bar",
      x: "severity",
      y: ["n"],
    });
    expect(suggestChart(cols(["week", "timestamptz"], ["n", "int8"], ["hosts", "numeric"]))).toEqual({
      type: "line",
      x: "week",
      y: ["n", "hosts"],
    });
    expect(suggestChart(cols(["a", "float8"], ["b", "int4"]))).toEqual({ type: "scatter", x: "a", y: ["b"] });
    expect(suggestChart(cols(["name", "text"], ["email", "varchar"]))).toEqual({ type: "table" });
    expect(suggestChart(cols(["n", "int4"]))).toEqual({ type: "table" });
  });

  it("keeps a spec that fits and replaces one that does not, saying why", () => {
    const columns = cols(["category", "text"], ["n", "bigint"]);
    expect(fitChart({ type: "pie", x: "category", y: ["n"] }, columns)).toEqual({
      chart: { type: "pie", x: "category", y: ["n"] },
    });
    const wrongColumn = fitChart({ type: "bar", x: "cat", y: ["n"] }, columns);
    expect(wrongColumn.chart).toEqual({ type: "bar", x: "category", y: ["n"] });
    expect(wrongColumn.note).toContain('x column "cat" is not in the result');
    const notNumeric = fitChart({ type: "line", x: "n", y: ["category"] }, columns);
    expect(notNumeric.note).toContain("is not numeric (text)");
    const unknownKind = fitChart({ type: "radar", x: "category", y: ["n"] }, columns);
    expect(unknownKind.note).toContain("type");
    expect(fitChart({ type: "table" }, columns)).toEqual({ chart: { type: "table" } });
  });
});

describe("CSV export", () => {
  it("quotes what needs quoting and defuses spreadsheet formulas", () => {
    const csv = toCsv(cols(["name", "text"], ["n", "int4"], ["tags", "json"]), [
      ["plain", 1, null],
      ['with "quotes", and comma', 2, ["a", "b"]],
      ["=HYPERLINK(1)", -3, { k: 1 }],
      ["two\nlines", null, null],
    ]);
    expect(csv).toBe(
      [
        "name,n,tags",
        "plain,1,",
        '"with ""quotes"", and comma",2,"[""a"",""b""]"',
        `'=HYPERLINK(1),-3,"{""k"":1}"`,
        '"two\nlines",,',
        "",
      ].join("\r\n"),
    );
  });
});

describe("paging", () => {
  it("wraps with a limit and an offset", () => {
    expect(wrapWithLimit("SELECT 1", 11, 20)).toBe(
      "SELECT * FROM (\nSELECT 1\n) AS aat_query LIMIT 11 OFFSET 20",
    );
    expect(wrapWithLimit("SELECT 1", 11)).toBe("SELECT * FROM (\nSELECT 1\n) AS aat_query LIMIT 11");
  });
});
