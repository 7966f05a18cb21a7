import jsonata from "jsonata";
import { compileSimple, NEEDS_JSONATA } from "./simple.js";

export { NEEDS_JSONATA } from "./simple.js";

/**
 * Expressions are JSONata. In templates (tool `with`, set `values`, prompts…) they sit inside `{% %}`:
 * a string that is exactly one `{% expr %}` evaluates to the expression's value (any JSON type); a string
 * with text around `{% %}` parts is interpolated into a string. Fields that are always expressions
 * (`if`, `when`, `items`, `until`) may be written bare or wrapped.
 * Everything is compiled once, at plan load time.
 */

export interface ExpressionProblem {
  /** Path inside the value that was compiled (for templates), e.g. ["with", "ip"]. */
  path: Array<string | number>;
  message: string;
  /** Character offset inside the expression text, when JSONata reports one. */
  position?: number;
}

export class ExpressionError extends Error {
  constructor(readonly problems: ExpressionProblem[]) {
    super(problems.map((p) => (p.path.length ? `${p.path.join(".")}: ${p.message}` : p.message)).join("; "));
    this.name = "ExpressionError";
  }
}

export interface CompiledExpression {
  readonly source: string;
  evaluate(data: unknown): Promise<unknown>;
  /**
   * The same value without a promise, or `NEEDS_JSONATA` when only `evaluate` can compute it (the
   * expression or the data needs JSONata proper). Lets a step whose expressions are all simple run
   * without a chain of promises.
   */
  evaluateNow(data: unknown): unknown;
}

const WRAPPED = /^\s*\{%([\s\S]*?)%\}\s*$/;
const SEGMENT = /\{%([\s\S]*?)%\}/g;

function compileJsonata(body: string, path: Array<string | number>): CompiledExpression {
  const source = body.trim();
  if (source.length === 0) throw new ExpressionError([{ path, message: "expression is empty" }]);
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(source);
  } catch (error) {
    const e = error as { message?: string; position?: number; token?: string };
    throw new ExpressionError([
      {
        path,
        message: `expression ${JSON.stringify(source)} does not parse: ${e.message ?? String(error)}`,
        ...(typeof e.position === "number" ? { position: e.position } : {}),
      },
    ]);
  }
  const evaluateWithJsonata = async (data: unknown): Promise<unknown> => {
    try {
      return normalise(await compiled.evaluate(data));
    } catch (error) {
      // JSONata flags arrays it navigates (e.g. `keepSingleton` for `names[]`) by writing onto them.
      // Run data is frozen so no expression can change it; when JSONata trips over that, evaluate
      // on a private copy instead.
      if (error instanceof TypeError && /not extensible|read.only|frozen/i.test(error.message)) {
        return normalise(await compiled.evaluate(structuredClone(data)));
      }
      throw error;
    }
  };
  const simple = compileSimple(compiled.ast());
  if (!simple) return { source, evaluate: evaluateWithJsonata, evaluateNow: () => NEEDS_JSONATA };
  const evaluateNow = (data: unknown): unknown => {
    const value = simple(data);
    return value === NEEDS_JSONATA ? NEEDS_JSONATA : normalise(value);
  };
  return {
    source,
    evaluate(data: unknown) {
      const value = evaluateNow(data);
      return value === NEEDS_JSONATA ? evaluateWithJsonata(data) : Promise.resolve(value);
    },
    evaluateNow,
  };
}

/** JSONata marks result arrays with extra properties (`sequence`, `keepSingleton`); return plain JSON. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) {
    const flagged = Object.keys(value).length !== value.length;
    let copy: unknown[] | undefined = flagged ? Array.from(value) : undefined;
    for (let i = 0; i < value.length; i++) {
      const item = normalise(value[i]);
      if (item !== value[i]) {
        copy ??= Array.from(value);
        copy[i] = item;
      }
    }
    return copy ?? value;
  }
  return value;
}

/** Freeze a JSON value in place, deeply, and return it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    // for-in rather than Object.keys: no array per object (this runs on every event the runner applies).
    for (const key in value) {
      if (Object.hasOwn(value, key)) deepFreeze((value as Record<string, unknown>)[key]);
    }
  }
  return value;
}

/** Compile a field that is always an expression: bare JSONata or one `{% %}` wrapper. */
export function compileExpression(text: string, path: Array<string | number> = []): CompiledExpression {
  const wrapped = WRAPPED.exec(text);
  return compileJsonata(wrapped ? wrapped[1]! : text, path);
}

export interface CompiledTemplate {
  /** True when the template contains no expression: `evaluate` then returns the literal unchanged. */
  readonly isStatic: boolean;
  evaluate(data: unknown): Promise<unknown>;
  /** See CompiledExpression.evaluateNow: the value at once, or `NEEDS_JSONATA`. */
  evaluateNow(data: unknown): unknown;
}

export function hasTemplate(text: string): boolean {
  return text.includes("{%");
}

/**
 * Compile any JSON value whose strings may contain `{% %}` templates. All problems are collected,
 * each with the path of the string it came from, then thrown together.
 */
export function compileTemplate(value: unknown, path: Array<string | number> = []): CompiledTemplate {
  const problems: ExpressionProblem[] = [];
  const part = build(value, path, problems);
  if (problems.length) throw new ExpressionError(problems);
  if (!part) return { isStatic: true, evaluate: async () => value, evaluateNow: () => value };
  return { isStatic: false, evaluate: part.evaluate, evaluateNow: part.evaluateNow };
}

/** A template piece that contains expressions, evaluated asynchronously or (when simple enough) at once. */
interface Part {
  evaluate(data: unknown): Promise<unknown>;
  evaluateNow(data: unknown): unknown;
}

function build(
  value: unknown,
  path: Array<string | number>,
  problems: ExpressionProblem[],
): Part | undefined {
  if (typeof value === "string") return buildString(value, path, problems);
  if (Array.isArray(value)) {
    const parts = value.map((item, i) => build(item, [...path, i], problems));
    if (parts.every((p) => p === undefined)) return undefined;
    return {
      evaluate: async (data) =>
        Promise.all(value.map((item, i) => (parts[i] ? parts[i].evaluate(data) : item))),
      evaluateNow(data) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const part = parts[i];
          const result = part ? part.evaluateNow(data) : value[i];
          if (result === NEEDS_JSONATA) return NEEDS_JSONATA;
          out[i] = result;
        }
        return out;
      },
    };
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    const parts = entries.map(([k, v]) => build(v, [...path, k], problems));
    if (parts.every((p) => p === undefined)) return undefined;
    return {
      async evaluate(data) {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < entries.length; i++) {
          const [k, v] = entries[i]!;
          const part = parts[i];
          const result = part ? await part.evaluate(data) : v;
          if (result !== undefined) out[k] = result;
        }
        return out;
      },
      evaluateNow(data) {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < entries.length; i++) {
          const [k, v] = entries[i]!;
          const part = parts[i];
          const result = part ? part.evaluateNow(data) : v;
          if (result === NEEDS_JSONATA) return NEEDS_JSONATA;
          if (result !== undefined) out[k] = result;
        }
        return out;
      },
    };
  }
  return undefined;
}

function buildString(
  text: string,
  path: Array<string | number>,
  problems: ExpressionProblem[],
): Part | undefined {
  if (!hasTemplate(text)) return undefined;
  try {
    const whole = WRAPPED.exec(text);
    if (whole && !whole[1]!.includes("{%")) return compileJsonata(whole[1]!, path);
    const pieces: Array<string | CompiledExpression> = [];
    let last = 0;
    for (const match of text.matchAll(SEGMENT)) {
      if (match.index > last) pieces.push(text.slice(last, match.index));
      pieces.push(compileJsonata(match[1]!, path));
      last = match.index + match[0].length;
    }
    const rest = text.slice(last);
    if (rest.includes("{%") || rest.includes("%}")) {
      problems.push({
        path,
        message: `unbalanced template delimiters in ${JSON.stringify(text)}: close each {% with %}`,
      });
      return undefined;
    }
    if (rest) pieces.push(rest);
    return {
      async evaluate(data) {
        let out = "";
        for (const piece of pieces)
          out += typeof piece === "string" ? piece : stringify(await piece.evaluate(data));
        return out;
      },
      evaluateNow(data) {
        let out = "";
        for (const piece of pieces) {
          if (typeof piece === "string") {
            out += piece;
            continue;
          }
          const value = piece.evaluateNow(data);
          if (value === NEEDS_JSONATA) return NEEDS_JSONATA;
          out += stringify(value);
        }
        return out;
      },
    };
  } catch (error) {
    if (error instanceof ExpressionError) problems.push(...error.problems);
    else throw error;
    return undefined;
  }
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
