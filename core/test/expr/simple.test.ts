import fc from "fast-check";
import jsonata from "jsonata";
import { describe, expect, it } from "vitest";
import { compileExpression, deepFreeze } from "../../src/expr/index.js";
import { compileSimple, NEEDS_JSONATA } from "../../src/expr/simple.js";

/**
 * The simple evaluator must agree with JSONata wherever it answers: random expressions (inside and
 * outside its subset) over random JSON data, compared with JSONata's own result. When JSONata raises
 * an error, the simple evaluator must have declined.
 */

const NAMES = ["a", "b", "n", "s", "list", "`x y`"];

const data = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(0, -0, 0.5, 1e308, -2.25),
    fc.constantFrom("", "a", "b", "10"),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    tie("object"),
  ),
  object: fc.dictionary(fc.constantFrom("a", "b", "n", "s", "list", "x y"), tie("value"), { maxKeys: 4 }),
})).object;

const OPS = ["+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "and", "or", "&"];

const path = fc
  .array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 })
  .map((names) => names.join("."));
const literal = fc.constantFrom("0", "1", "2.5", "-1", '""', '"a"', '"10"', "true", "false", "null", "1e400");
const atom = fc.oneof(path, literal);

const expression = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 4, depthSize: "small" },
    path,
    literal,
    // one operator between two atoms: the most common shape in plans, and every type pairing
    fc.tuple(atom, fc.constantFrom(...OPS), atom).map(([lhs, op, rhs]) => `${lhs} ${op} ${rhs}`),
    // nested operators, conditions, parentheses
    fc
      .tuple(tie("expr"), fc.constantFrom(...OPS), tie("expr"))
      .map(([lhs, op, rhs]) => `(${lhs}) ${op} (${rhs})`),
    tie("expr").map((e) => `-(${e})`),
    fc.tuple(tie("expr"), tie("expr"), tie("expr")).map(([c, t, e]) => `(${c}) ? (${t}) : (${e})`),
    fc.tuple(tie("expr"), tie("expr")).map(([c, t]) => `(${c}) ? (${t})`),
    // outside the subset: must be left to JSONata
    fc.constantFrom(
      "a[0]",
      "list[]",
      "$count(list)",
      "$.a",
      "*",
      "a.b[n > 0]",
      "$not(a)",
      "[1, 2]",
      "{ 'k': a }",
    ),
  ),
})).expr;

type Outcome = { ok: true; value: unknown } | { ok: false };

async function viaJsonata(source: string, input: unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await jsonata(source).evaluate(input) };
  } catch {
    return { ok: false };
  }
}

describe("simple evaluator", () => {
  it("answers exactly what JSONata answers, or declines", async () => {
    let answered = 0;
    let total = 0;
    await fc.assert(
      fc.asyncProperty(expression, data, async (source, input) => {
        let compiled: jsonata.Expression;
        try {
          compiled = jsonata(source);
        } catch {
          return; // not an expression (e.g. a number literal out of range): nothing to compare
        }
        total++;
        const simple = compileSimple(compiled.ast());
        const fast = simple ? simple(input) : NEEDS_JSONATA;
        if (fast === NEEDS_JSONATA) return;
        answered++;
        const reference = await viaJsonata(source, input);
        expect(reference.ok, `JSONata raised an error for ${source}`).toBe(true);
        if (reference.ok) expect(Object.is(fast, reference.value), source).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // The comparison means something only if the fast path answers a good share of the cases.
    expect(answered / total).toBeGreaterThan(0.3);
  });

  it("covers the expressions plans use most", () => {
    const scope = {
      input: { severity: "high", n: 2, tags: ["a"] },
      steps: { enrich: { status: "succeeded", output: { score: 90, name: "x" } } },
    };
    const cases: Array<[string, unknown]> = [
      ["steps.enrich.output.score + 1", 91],
      ["input.severity = 'high'", true],
      ["steps.enrich.output.score >= 50 and input.n < 3", true],
      ["input.missing.deeper", undefined],
      ["input.tags", scope.input.tags],
      ["'id-' & steps.enrich.output.name", "id-x"],
      ["input.n > 1 ? 'many' : 'few'", "many"],
      ["-(input.n * 2)", -4],
    ];
    for (const [source, expected] of cases) {
      const simple = compileSimple(jsonata(source).ast());
      expect(simple, source).toBeDefined();
      expect(simple?.(scope), source).toBe(expected);
    }
  });

  it("declines arrays along a path, non-number arithmetic and anything it does not know", () => {
    const scope = { list: [{ a: 1 }, { a: 2 }], s: "x", n: 1 };
    expect(compileSimple(jsonata("list.a").ast())?.(scope)).toBe(NEEDS_JSONATA);
    expect(compileSimple(jsonata("s + 1").ast())?.(scope)).toBe(NEEDS_JSONATA);
    expect(compileSimple(jsonata("n / 0").ast())?.(scope)).toBe(NEEDS_JSONATA);
    expect(compileSimple(jsonata("list[0]").ast())).toBeUndefined();
    expect(compileSimple(jsonata("$count(list)").ast())).toBeUndefined();
  });

  it("falls back to JSONata transparently in compiled expressions, without changing frozen data", async () => {
    const scope = deepFreeze({ list: [{ a: 1 }, { a: 2 }], one: ["x"], n: 1 });
    expect(await compileExpression("list.a").evaluate(scope)).toEqual([1, 2]);
    expect(await compileExpression("one[]").evaluate(scope)).toEqual(["x"]);
    expect(await compileExpression("one").evaluate(scope)).toBe(scope.one);
    expect(await compileExpression("n + 1").evaluate(scope)).toBe(2);
    await expect(compileExpression("one + 1").evaluate(scope)).rejects.toMatchObject({ code: "T2001" });
    expect(Object.keys(scope.one)).toEqual(["0"]);
  });
});
