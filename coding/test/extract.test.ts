import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { extract } from "../src/extract.js";
import { defaultLanguages } from "../src/languages/registry.js";

const fixtures = path.join(import.meta.dirname, "fixtures", "languages");
const languages = defaultLanguages();

type Row = [name: string, kind: string, container: string | undefined, startLine: number, endLine: number];

async function symbolsOf(file: string): Promise<Row[]> {
  const language = languages.forPath(file);
  if (!language) throw new Error(`no language for ${file}`);
  const { symbols } = await extract(language, await readFile(path.join(fixtures, file), "utf8"));
  return symbols.map((s) => [s.name, s.kind, s.container, s.range.startLine, s.range.endLine]);
}

describe("symbol extraction per language (exact)", () => {
  it.each<[string, Row[]]>([
    [
      "Sample.java",
      [
        ["Shape", "interface", undefined, 5, 7],
        ["area", "method", "Shape", 6, 6],
        ["Unit", "type", undefined, 9, 9],
        ["Square", "class", undefined, 11, 26],
        ["SIDES", "variable", "Square", 12, 12],
        ["side", "variable", "Square", 13, 13],
        ["Square", "method", "Square", 15, 17],
        ["area", "method", "Square", 19, 21],
        ["total", "method", "Square", 23, 25],
      ],
    ],
    [
      "sample.go",
      [
        ["Pi", "variable", undefined, 5, 5],
        ["registry", "variable", undefined, 7, 7],
        ["Shape", "interface", undefined, 9, 11],
        ["Area", "method", "Shape", 10, 10],
        ["Circle", "class", undefined, 13, 15],
        ["Radius", "variable", "Circle", 14, 14],
        ["Name", "type", undefined, 17, 17],
        ["Area", "method", "Circle", 19, 21],
        ["Register", "function", undefined, 23, 25],
      ],
    ],
    [
      "sample.js",
      [
        ["cache", "variable", undefined, 1, 1],
        ["Store", "class", undefined, 3, 8],
        ["count", "variable", "Store", 4, 4],
        ["get", "method", "Store", 5, 7],
        ["createStore", "function", undefined, 10, 12],
        ["reset", "function", undefined, 14, 16],
      ],
    ],
    [
      "sample.py",
      [
        ["LIMIT", "variable", undefined, 3, 3],
        ["Reader", "class", undefined, 6, 14],
        ["encoding", "variable", "Reader", 7, 7],
        ["__init__", "method", "Reader", 9, 10],
        ["size", "method", "Reader", 13, 14],
        ["read_all", "function", undefined, 17, 21],
        ["one", "function", "read_all", 18, 19],
      ],
    ],
    [
      "sample.rs",
      [
        ["MAX", "variable", undefined, 3, 3],
        ["Shape", "interface", undefined, 5, 7],
        ["area", "method", "Shape", 6, 6],
        ["Square", "class", undefined, 9, 11],
        ["side", "variable", "Square", 10, 10],
        ["Kind", "type", undefined, 13, 16],
        ["area", "method", "Square", 19, 21],
        ["fmt", "method", "Square", 25, 27],
        ["classify", "function", undefined, 30, 32],
      ],
    ],
    [
      "sample.ts",
      [
        ["Shape", "interface", undefined, 1, 4],
        ["area", "method", "Shape", 2, 2],
        ["name", "variable", "Shape", 3, 3],
        ["Id", "type", undefined, 6, 6],
        ["Color", "type", undefined, 8, 10],
        ["DEFAULT_SIZE", "variable", undefined, 12, 12],
        ["makeId", "function", undefined, 14, 14],
        ["Circle", "class", undefined, 16, 22],
        ["name", "variable", "Circle", 17, 17],
        ["constructor", "method", "Circle", 18, 18],
        ["area", "method", "Circle", 19, 21],
        ["total", "function", undefined, 24, 29],
        ["add", "function", "total", 25, 27],
      ],
    ],
    [
      "sample.tsx",
      [
        ["Props", "interface", undefined, 3, 5],
        ["title", "variable", "Props", 4, 4],
        ["Card", "function", undefined, 7, 9],
        ["Empty", "function", undefined, 11, 11],
      ],
    ],
  ])("%s", async (file, expected) => {
    expect(await symbolsOf(file)).toEqual(expected);
  });
});

describe("references by name", () => {
  it("lists identifiers used, not the names being defined", async () => {
    const language = languages.forPath("x.go")!;
    const { references } = await extract(language, await readFile(path.join(fixtures, "sample.go"), "utf8"));
    expect(references.filter((r) => r.name === "registry")).toEqual([
      { name: "registry", line: 24, column: 1 },
    ]);
    expect(references.filter((r) => r.name === "Pi").map((r) => r.line)).toEqual([5, 20]);
  });

  it("finds a method called through a property in TypeScript", async () => {
    const language = languages.forPath("x.ts")!;
    const { references } = await extract(language, await readFile(path.join(fixtures, "sample.ts"), "utf8"));
    expect(references.filter((r) => r.name === "area")).toEqual([{ name: "area", line: 26, column: 19 }]);
  });

  it("columns and ranges are exact", async () => {
    const language = languages.forPath("x.py")!;
    const { symbols } = await extract(language, "def f():\n    return 1\n");
    expect(symbols).toEqual([
      { name: "f", kind: "function", range: { startLine: 1, startColumn: 0, endLine: 2, endColumn: 12 } },
    ]);
  });
});

describe("language registry", () => {
  it("maps extensions to one extractor each and refuses duplicates", () => {
    expect(languages.list().map((l) => l.id)).toEqual([
      "typescript",
      "tsx",
      "javascript",
      "python",
      "go",
      "rust",
      "java",
    ]);
    expect(languages.forPath("a/B.JAVA")?.id).toBe("java");
    expect(languages.forPath("README.md")).toBeUndefined();
    expect(() => defaultLanguages().register({ ...languages.get("go")!, id: "go2" })).toThrow(
      /extension .go of go2 is already taken by go/,
    );
  });
});
