import sqlParser from "node-sql-parser";
import type { SqlEngine } from "./driver.js";

const { Parser } = sqlParser;
const parser = new Parser();

/** node-sql-parser's dialect names per engine. */
const PARSER_DIALECT: Record<SqlEngine, string> = {
  postgres: "PostgresQL",
  pglite: "PostgresQL",
  mysql: "MySQL",
  mariadb: "MariaDB",
  sqlite: "Sqlite",
};

/**
 * Functions with effects beyond reading (sequences, settings, sessions, files, large objects, remote
 * links) or that only burn time. Matched on the bare name, case-insensitive, whatever the schema.
 */
const DENIED_FUNCTIONS = new Set([
  "nextval",
  "setval",
  "currval",
  "lastval",
  "set_config",
  "pg_terminate_backend",
  "pg_cancel_backend",
  "pg_reload_conf",
  "pg_rotate_logfile",
  "pg_advisory_lock",
  "pg_advisory_xact_lock",
  "pg_advisory_lock_shared",
  "pg_try_advisory_lock",
  "pg_notify",
  "pg_read_file",
  "pg_read_binary_file",
  "pg_ls_dir",
  "pg_stat_file",
  "pg_file_write",
  "pg_create_restore_point",
  "pg_switch_wal",
  "pg_promote",
  "pg_import_system_collations",
  "txid_current",
  "query_to_xml",
  "query_to_json",
  "dblink",
  "dblink_exec",
  "dblink_connect",
  "load_file",
  "get_lock",
  "release_lock",
  "benchmark",
  "load_extension",
  "writefile",
  "readfile",
  "edit",
]);
const DENIED_PREFIXES = ["lo_", "dblink", "pg_catalog.lo_"];
/** Sleeps are allowed only with a literal duration within the statement timeout. */
const SLEEP_FUNCTIONS = new Set(["pg_sleep", "sleep", "pg_sleep_for", "pg_sleep_until"]);

/** Statement kinds that change data or schema; found anywhere in the tree they refuse the query. */
const WRITE_KINDS = new Set([
  "insert",
  "update",
  "delete",
  "replace",
  "create",
  "alter",
  "drop",
  "truncate",
  "rename",
  "grant",
  "revoke",
  "call",
  "set",
  "lock",
  "unlock",
  "use",
  "load_data",
  "transaction",
  "merge",
]);

export type RefusalReason =
  | "parse"
  | "not-single-statement"
  | "not-select"
  | "writes-data"
  | "into"
  | "locking"
  | "denied-function"
  | "sleep-too-long"
  | "empty";

/** A query the read-only check refused: `reason` is stable for code, the message says what and how to fix. */
export class SqlRefusedError extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = "SqlRefusedError";
  }
}

export interface CheckedQuery {
  /** The statement as written, without trailing semicolons, ready to be wrapped. */
  sql: string;
  /** Tables the statement reads (`db.table` or `table`). */
  tables: string[];
}

export interface GuardOptions {
  /** The statement timeout; literal sleeps longer than this are refused before they run. */
  timeoutMs: number;
}

/**
 * The first layer of read-only enforcement: the statement must parse in the engine's dialect as exactly
 * one SELECT (WITH … SELECT included) that reads only, takes no locks, writes nowhere (no INTO) and
 * calls no function with side effects. Anything the parser cannot read is refused (fail closed).
 */
export function checkReadOnly(sql: string, engine: SqlEngine, options: GuardOptions): CheckedQuery {
  const text = stripTrailing(sql, engine);
  if (text === "") throw new SqlRefusedError("empty", "the query is empty: write one SELECT statement");
  const database = PARSER_DIALECT[engine];
  let ast: unknown;
  let tableList: string[];
  try {
    ast = parser.astify(text, { database });
    tableList = parser.tableList(text, { database });
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new SqlRefusedError(
      "parse",
      `refused: the query is not one read-only SELECT the ${engine} parser understands (${truncate(detail, 200)}). ` +
        "Write a single SELECT or WITH … SELECT without FOR UPDATE/SHARE, COPY or data-modifying CTEs.",
    );
  }
  const statements = (Array.isArray(ast) ? ast : [ast]).filter((s) => s !== null && s !== undefined);
  if (statements.length !== 1) {
    throw new SqlRefusedError(
      "not-single-statement",
      `refused: ${statements.length} statements found; only one SELECT statement may run at a time`,
    );
  }
  const statement = statements[0] as { type?: string };
  if (statement.type !== "select") {
    throw new SqlRefusedError(
      "not-select",
      `refused: ${String(statement.type ?? "this").toUpperCase()} statements are not allowed; only SELECT (or WITH … SELECT) reads data`,
    );
  }
  const writes = tableList.filter((entry) => !entry.toLowerCase().startsWith("select::"));
  if (writes.length > 0) {
    const [action, , table] = (writes[0] ?? "").split("::");
    throw new SqlRefusedError(
      "writes-data",
      `refused: the query would ${String(action).toUpperCase()} ${table}; analytics queries only read`,
    );
  }
  walk(statement, (node) => inspectNode(node, options));
  return {
    sql: text,
    tables: tableList.map((entry) =>
      entry
        .split("::")
        .slice(1)
        .filter((part) => part !== "null")
        .join("."),
    ),
  };
}

/**
 * The statement without what may follow its last token: whitespace, semicolons and comments
 * (`SELECT 1;\n-- done` → `SELECT 1`), so the wrapped query the database runs holds no stray `;`.
 * A left-to-right scan that knows the engine's strings, quoted names and comments (node-sql-parser
 * exposes no tokenizer): its only output is where the last real token ends, and the cut text is the
 * text that is parsed, checked and run, so a wrong cut can only make a query fail, never let a write by.
 */
export function stripTrailing(sql: string, engine: SqlEngine): string {
  const mysql = engine === "mysql" || engine === "mariadb";
  const postgres = engine === "postgres" || engine === "pglite";
  let end = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "-" && next === "-" && (!mysql || i + 2 >= n || /\s/.test(sql[i + 2]!))) {
      const newline = sql.indexOf("\n", i);
      i = newline < 0 ? n : newline + 1;
    } else if (mysql && c === "#") {
      const newline = sql.indexOf("\n", i);
      i = newline < 0 ? n : newline + 1;
    } else if (c === "/" && next === "*") {
      // PostgreSQL block comments nest; the others end at the first */.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === "*" && sql[i + 1] === "/") {
          depth--;
          i += 2;
        } else if (postgres && sql[i] === "/" && sql[i + 1] === "*") {
          depth++;
          i += 2;
        } else i++;
      }
    } else if (c === "'" || c === '"' || c === "`" || (engine === "sqlite" && c === "[")) {
      const close = c === "[" ? "]" : c;
      i++;
      while (i < n) {
        if (mysql && sql[i] === "\\" && c !== "`") i += 2;
        else if (sql[i] === close) {
          if (close !== "]" && sql[i + 1] === close) i += 2;
          else break;
        } else i++;
      }
      i = Math.min(n, i + 1);
      end = i;
    } else if (postgres && c === "$") {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
      } else i++;
      end = i;
    } else {
      i++;
      if (c !== ";" && !/\s/.test(c)) end = i;
    }
  }
  return sql.slice(0, end).trim();
}

function inspectNode(node: Record<string, unknown>, options: GuardOptions): void {
  const type = typeof node.type === "string" ? node.type.toLowerCase() : undefined;
  if (type !== undefined && WRITE_KINDS.has(type) && ("table" in node || "name" in node || "expr" in node)) {
    throw new SqlRefusedError(
      "writes-data",
      `refused: a nested ${type.toUpperCase()} statement; analytics queries only read`,
    );
  }
  const into = node.into as { type?: string; expr?: unknown } | undefined;
  if (into && typeof into === "object" && (into.type === "into" || into.expr)) {
    throw new SqlRefusedError(
      "into",
      "refused: SELECT … INTO writes its result somewhere; remove the INTO clause",
    );
  }
  for (const key of ["locking_read", "for_update"] as const) {
    if (node[key]) {
      throw new SqlRefusedError(
        "locking",
        `refused: ${String(node[key]).toUpperCase()} takes row locks; remove the locking clause`,
      );
    }
  }
  if (type === "function" || type === "aggr_func") {
    const name = functionName(node);
    if (name === undefined) return;
    const bare = name.split(".").pop() ?? name;
    if (
      DENIED_FUNCTIONS.has(bare) ||
      DENIED_PREFIXES.some((prefix) => bare.startsWith(prefix) || name.startsWith(prefix))
    ) {
      throw new SqlRefusedError(
        "denied-function",
        `refused: ${bare}() has side effects beyond reading (sequences, settings, sessions, files or remote links)`,
      );
    }
    if (SLEEP_FUNCTIONS.has(bare)) checkSleep(bare, node, options);
  }
}

function checkSleep(name: string, node: Record<string, unknown>, options: GuardOptions): void {
  const args = (node.args as { value?: unknown[] } | undefined)?.value;
  const first = Array.isArray(args) ? (args[0] as { type?: string; value?: unknown } | undefined) : undefined;
  const seconds = first?.type === "number" ? Number(first.value) : Number.NaN;
  if (name !== "pg_sleep" && name !== "sleep") {
    throw new SqlRefusedError("sleep-too-long", `refused: ${name}() only waits; analytics queries read data`);
  }
  if (Number.isFinite(seconds) && seconds * 1000 > options.timeoutMs) {
    throw new SqlRefusedError(
      "sleep-too-long",
      `refused: ${name}(${seconds}) would outlast the ${options.timeoutMs} ms statement timeout`,
    );
  }
}

function functionName(node: Record<string, unknown>): string | undefined {
  const name = node.name as unknown;
  if (typeof name === "string") return name.toLowerCase();
  if (name && typeof name === "object") {
    const parts = (name as { name?: { value?: unknown }[]; schema?: { value?: unknown } }).name;
    const schema = (name as { schema?: { value?: unknown } }).schema?.value;
    if (Array.isArray(parts)) {
      const joined = parts.map((part) => String(part?.value ?? "")).join(".");
      return (typeof schema === "string" ? `${schema}.${joined}` : joined).toLowerCase();
    }
  }
  return undefined;
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void, depth = 0): void {
  if (depth > 500) throw new SqlRefusedError("parse", "refused: the query nests too deeply to check");
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit, depth + 1);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const node = value as Record<string, unknown>;
  visit(node);
  for (const child of Object.values(node)) walk(child, visit, depth + 1);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
