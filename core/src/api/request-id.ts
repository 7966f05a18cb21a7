import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { ApiEnv } from "./deps.js";

export const REQUEST_ID_HEADER = "X-Request-Id";

/** Same shape the audit log accepts; anything else from the caller is replaced, never echoed. */
const ACCEPTABLE = /^[\w.:-]{1,128}$/;

/** Takes the caller's X-Request-Id (when sane) or makes one, and returns it on every response. */
export function requestId(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId", id);
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, id);
  };
}

/** The caller's request id when it has the accepted shape, else a new one. */
export function requestIdFrom(given: string | undefined): string {
  return given !== undefined && ACCEPTABLE.test(given) ? given : randomUUID();
}
