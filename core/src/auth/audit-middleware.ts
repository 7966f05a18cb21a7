import { randomUUID } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { AuditEntry, AuditLog, AuditRecordInput, AuditResult } from "./audit-log.js";
import type { Principal } from "./principal.js";

/** What a handler may add to its audit entry; it must never include request bodies or secrets. */
export interface AuditAnnotation {
  /** Overrides the default target (the request path), e.g. "key:ab12" or "run:r-1". */
  target?: string;
  details?: Record<string, unknown>;
  /**
   * An entry from `AuditLog.prepare` that the handler stores itself, together with its own records
   * (one atomic write). The middleware then writes nothing when the call ended with that entry's status
   * and result; otherwise it records the real outcome under the same id, replacing it.
   */
  prepared?: AuditEntry;
}

export type AuditVariables = { audit?: AuditAnnotation };

export interface AuditMiddlewareOptions {
  /**
   * Called when writing an entry fails. The call itself has already happened, so failing its response
   * would mislead the caller into retrying; by default the failure is written to stderr.
   */
  onRecordError?: (error: unknown, entry: AuditRecordInput) => void;
}

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Records every state-changing request after it completes, denials included. Mount it before
 * `authenticate` so 401s pass through it. Records method, route, path, status and principal only.
 */
export function audit(log: AuditLog, options: AuditMiddlewareOptions = {}): MiddlewareHandler {
  const onRecordError = options.onRecordError ?? reportToStderr;
  return async (c, next) => {
    if (!STATE_CHANGING.has(c.req.method)) return next();
    await next();
    const status = c.res.status;
    const result = resultOf(status, c.error);
    // c.get, not c.var: Hono builds a new object of all variables on each read of c.var.
    const get = c.get as (name: string) => unknown;
    const annotation = get("audit") as AuditAnnotation | undefined;
    const prepared = annotation?.prepared;
    // The handler stored this very outcome with its own records: nothing to write.
    if (prepared !== undefined && prepared.status === status && prepared.result === result) return;
    const principal = get("principal") as Principal | undefined;
    const entry: AuditRecordInput = {
      who: principal?.id ?? "anonymous",
      action: `${c.req.method} ${routePattern(c)}`,
      target: annotation?.target ?? c.req.path,
      result,
      status,
      requestId: requestIdOf(c, get("requestId")),
      ...(annotation?.details === undefined ? {} : { details: annotation.details }),
    };
    try {
      await log.record(entry, prepared === undefined ? {} : { replaces: prepared.id });
    } catch (error) {
      onRecordError(error, entry);
    }
  };
}

function resultOf(status: number, error: unknown): AuditResult {
  if (status === 401 || status === 403) return "denied";
  if (error !== undefined || status >= 400) return "error";
  return "ok";
}

/** The route as declared ("/v1/keys/:id"), so entries group by operation; the path when nothing matched. */
function routePattern(c: Context): string {
  const handlers = matchedRoutes(c).filter((route) => route.method !== "ALL");
  return handlers.at(-1)?.path ?? c.req.path;
}

function requestIdOf(c: Context, given: unknown): string {
  if (typeof given === "string") return given;
  const header = c.req.header("x-request-id");
  return header !== undefined && REQUEST_ID.test(header) ? header : randomUUID();
}

function reportToStderr(error: unknown, entry: AuditRecordInput): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `${JSON.stringify({ level: "error", msg: "audit entry could not be written", error: message, entry })}\n`,
  );
}
