/**
 * A synchronous evaluator for the JSONata expressions plans use most: paths over objects
 * (`steps.enrich.output.score`, `input.severity`), literals, arithmetic, comparisons, `and`/`or`,
 * string concatenation, conditions and parentheses.
 *
 * Why: JSONata evaluates every node through an async function and builds a fresh environment per call,
 * so `steps.a.output.n + 1` costs ~2.5 µs — more than the rest of an engine step. This evaluator reads
 * the same parsed AST (the expression is still compiled by JSONata, so syntax and error messages do not
 * change) and costs tens of nanoseconds.
 *
 * It is exact by design: it only accepts AST nodes it knows completely (any other node type or
 * flag, such as predicates, `[]`, functions or variables, leaves the expression to JSONata), and at run
 * time it gives up — returns `NEEDS_JSONATA` — whenever the data leaves the simple case: an array met
 * along a path (JSONata would map over it), an operand JSONata would reject with an error, a
 * non-finite number, a non-JSON value. The caller then evaluates with JSONata itself. Equivalence with
 * JSONata is checked by a property test over random expressions and data (core/test/expr).
 * It never writes to the data it reads.
 */

/** Returned when the expression or data is outside the simple case: evaluate with JSONata instead. */
export const NEEDS_JSONATA: unique symbol = Symbol("needs JSONata");

export type SimpleEvaluator = (data: unknown) => unknown;

interface Node {
  type: string;
  value?: unknown;
  [key: string]: unknown;
}

/** The only keys each accepted node type may carry; any other key is a feature this evaluator lacks. */
const ALLOWED_KEYS: Record<string, ReadonlySet<string>> = {
  path: new Set(["type", "steps"]),
  name: new Set(["type", "value", "position"]),
  string: new Set(["type", "value", "position"]),
  number: new Set(["type", "value", "position"]),
  value: new Set(["type", "value", "position"]),
  binary: new Set(["type", "value", "position", "lhs", "rhs"]),
  unary: new Set(["type", "value", "position", "expression"]),
  condition: new Set(["type", "position", "condition", "then", "else"]),
  block: new Set(["type", "position", "expressions"]),
};

/** An evaluator for the parsed JSONata expression, or undefined when it uses anything outside the subset. */
export function compileSimple(ast: unknown): SimpleEvaluator | undefined {
  return compileNode(ast);
}

function isNode(value: unknown): value is Node {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") return false;
  const allowed = ALLOWED_KEYS[type];
  if (!allowed) return false;
  for (const key of Object.keys(value)) if (!allowed.has(key)) return false;
  return true;
}

function compileNode(node: unknown): SimpleEvaluator | undefined {
  if (!isNode(node)) return undefined;
  switch (node.type) {
    case "string":
    case "number":
    case "value": {
      const literal = node.value;
      if (
        literal !== null &&
        typeof literal !== "string" &&
        typeof literal !== "number" &&
        typeof literal !== "boolean"
      )
        return undefined;
      if (typeof literal === "number" && !Number.isFinite(literal)) return undefined;
      return () => literal;
    }
    case "path":
      return compilePath(node.steps);
    case "binary":
      return compileBinary(node);
    case "unary": {
      if (node.value !== "-") return undefined;
      const operand = compileNode(node.expression);
      if (!operand) return undefined;
      return (data) => {
        const value = operand(data);
        if (value === undefined || value === NEEDS_JSONATA) return value;
        return isFiniteNumber(value) ? -value : NEEDS_JSONATA;
      };
    }
    case "condition": {
      const condition = compileNode(node.condition);
      const then = compileNode(node.then);
      const otherwise = node.else === undefined ? () => undefined : compileNode(node.else);
      if (!condition || !then || !otherwise) return undefined;
      return (data) => {
        const test = effectiveBoolean(condition(data));
        if (test === NEEDS_JSONATA) return NEEDS_JSONATA;
        return test ? then(data) : otherwise(data);
      };
    }
    case "block": {
      const parts = Array.isArray(node.expressions) ? node.expressions.map(compileNode) : [];
      if (parts.length === 0 || parts.some((part) => part === undefined)) return undefined;
      const evaluators = parts as SimpleEvaluator[];
      return (data) => {
        let result: unknown;
        for (const evaluate of evaluators) {
          result = evaluate(data);
          if (result === NEEDS_JSONATA) return NEEDS_JSONATA;
        }
        return result;
      };
    }
    default:
      return undefined;
  }
}

/** `a.b.c`: every step a plain name. */
function compilePath(steps: unknown): SimpleEvaluator | undefined {
  if (!Array.isArray(steps) || steps.length === 0) return undefined;
  const names: string[] = [];
  for (const step of steps) {
    if (!isNode(step) || step.type !== "name" || typeof step.value !== "string") return undefined;
    names.push(step.value);
  }
  const last = names.length - 1;
  return (data) => {
    let value = data;
    for (let i = 0; i <= last; i++) {
      // JSONata maps a path step over an array (and wraps an array root): not the simple case.
      if (Array.isArray(value)) return NEEDS_JSONATA;
      value = lookup(value, names[i]!);
      if (value === undefined) return undefined;
    }
    // A final array is returned as it is, unless it carries JSONata's own sequence flag.
    if (Array.isArray(value) && (value as { sequence?: unknown }).sequence === true) return NEEDS_JSONATA;
    if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint")
      return NEEDS_JSONATA;
    return value;
  };
}

/** JSONata's own property lookup on a non-array value: own properties of objects that are not functions. */
function lookup(input: unknown, key: string): unknown {
  if (input === null || typeof input !== "object") return undefined;
  if (!Object.hasOwn(input, key)) return undefined;
  const marked = input as { _jsonata_function?: unknown; _jsonata_lambda?: unknown };
  if (marked._jsonata_function === true || marked._jsonata_lambda === true) return undefined;
  return (input as Record<string, unknown>)[key];
}

function compileBinary(node: Node): SimpleEvaluator | undefined {
  const op = node.value;
  const lhs = compileNode(node.lhs);
  const rhs = compileNode(node.rhs);
  if (!lhs || !rhs || typeof op !== "string") return undefined;
  switch (op) {
    case "+":
    case "-":
    case "*":
    case "/":
    case "%":
      return (data) => {
        const left = lhs(data);
        if (left === NEEDS_JSONATA) return NEEDS_JSONATA;
        const right = rhs(data);
        if (right === NEEDS_JSONATA) return NEEDS_JSONATA;
        // JSONata raises an error for a non-number operand: leave that to it.
        if ((left !== undefined && !isFiniteNumber(left)) || (right !== undefined && !isFiniteNumber(right)))
          return NEEDS_JSONATA;
        if (left === undefined || right === undefined) return undefined;
        const result = arithmetic(op, left as number, right as number);
        return Number.isFinite(result) ? result : NEEDS_JSONATA;
      };
    case "=":
    case "!=":
      return (data) => {
        const left = lhs(data);
        if (left === NEEDS_JSONATA) return NEEDS_JSONATA;
        const right = rhs(data);
        if (right === NEEDS_JSONATA) return NEEDS_JSONATA;
        if (left === undefined || right === undefined) return false;
        // Deep equality of arrays and objects is JSONata's business.
        if (typeof left === "object" && left !== null) return NEEDS_JSONATA;
        if (typeof right === "object" && right !== null) return NEEDS_JSONATA;
        return op === "=" ? left === right : left !== right;
      };
    case "<":
    case "<=":
    case ">":
    case ">=":
      return (data) => {
        const left = lhs(data);
        if (left === NEEDS_JSONATA) return NEEDS_JSONATA;
        const right = rhs(data);
        if (right === NEEDS_JSONATA) return NEEDS_JSONATA;
        const lt = typeof left;
        const rt = typeof right;
        // Anything but two strings or two numbers is an error in JSONata (or undefined for a missing side
        // next to a comparable one): leave those cases to it.
        if ((lt !== "string" && lt !== "number") || lt !== rt) {
          const comparable = (t: string) => t === "undefined" || t === "string" || t === "number";
          return comparable(lt) && comparable(rt) && (lt === "undefined" || rt === "undefined")
            ? undefined
            : NEEDS_JSONATA;
        }
        if (lt === "number" && (!Number.isFinite(left) || !Number.isFinite(right))) return NEEDS_JSONATA;
        return compare(op, left as string | number, right as string | number);
      };
    case "and":
    case "or":
      return (data) => {
        const left = effectiveBoolean(lhs(data));
        if (left === NEEDS_JSONATA) return NEEDS_JSONATA;
        if (op === "and" ? !left : left) return left;
        const right = effectiveBoolean(rhs(data));
        return right;
      };
    case "&":
      return (data) => {
        const left = lhs(data);
        if (left === NEEDS_JSONATA) return NEEDS_JSONATA;
        const right = rhs(data);
        if (right === NEEDS_JSONATA) return NEEDS_JSONATA;
        // Non-strings go through JSONata's $string formatting: leave them to it.
        if (
          (left !== undefined && typeof left !== "string") ||
          (right !== undefined && typeof right !== "string")
        )
          return NEEDS_JSONATA;
        return (left ?? "") + (right ?? "");
      };
    default:
      return undefined;
  }
}

function arithmetic(op: string, left: number, right: number): number {
  switch (op) {
    case "+":
      return left + right;
    case "-":
      return left - right;
    case "*":
      return left * right;
    case "/":
      return left / right;
    default:
      return left % right;
  }
}

function compare(op: string, left: string | number, right: string | number): boolean {
  switch (op) {
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    default:
      return left >= right;
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** JSONata's `$boolean` for scalars (an undefined value counts as false); arrays and objects are left to it. */
function effectiveBoolean(value: unknown): boolean | typeof NEEDS_JSONATA {
  switch (typeof value) {
    case "undefined":
      return false;
    case "boolean":
      return value;
    case "string":
      return value.length > 0;
    case "number":
      return Number.isFinite(value) ? value !== 0 : NEEDS_JSONATA;
    case "object":
      return value === null ? false : NEEDS_JSONATA;
    default:
      return NEEDS_JSONATA;
  }
}
