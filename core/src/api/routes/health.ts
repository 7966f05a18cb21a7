import { createRoute } from "@hono/zod-openapi";
import type { ApiApp, ApiContext } from "../context.js";
import { PUBLIC } from "../openapi-route.js";
import { PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE } from "../problem.js";
import { healthSchema, notReadySchema, readySchema } from "../schemas.js";

/** A dependency that does not answer within this long counts as down. */
const PING_TIMEOUT_MS = 2000;

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness: the process is up",
  ...PUBLIC,
  responses: { 200: { description: "Up.", content: { "application/json": { schema: healthSchema } } } },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["health"],
  summary: "Readiness: the KeyValue store and the queue answer",
  description: "503 (problem+json with `checks`) names the dependency that failed.",
  ...PUBLIC,
  responses: {
    200: { description: "Ready.", content: { "application/json": { schema: readySchema } } },
    503: { description: "Not ready.", content: { "application/problem+json": { schema: notReadySchema } } },
  },
});

export function registerHealthRoutes(app: ApiApp, ctx: ApiContext): void {
  const { deps } = ctx;

  app.openapi(healthz, (c) => c.json({ status: "ok" as const, version: deps.version }, 200));

  app.openapi(readyz, async (c) => {
    const [kv, queue] = await Promise.all([probe(() => deps.kv.ping()), probe(() => deps.queue.ping())]);
    if (kv.ok && queue.ok)
      return c.json({ status: "ready" as const, checks: { kv: "ok", queue: "ok" } }, 200);
    // Failure messages can name internal hosts: they go to the log, the unauthenticated caller gets which one failed.
    ctx.logger.warn({ requestId: c.get("requestId"), kv: kv.detail, queue: queue.detail }, "not ready");
    const checks = { kv: outcome(kv.ok), queue: outcome(queue.ok) };
    const failed = Object.entries(checks)
      .filter(([, result]) => result !== "ok")
      .map(([name]) => name);
    return c.json(
      {
        type: `${PROBLEM_TYPE_BASE}not-ready`,
        title: "Service unavailable",
        status: 503,
        detail: `not ready: ${failed.join(" and ")} did not answer a ping`,
        instance: c.req.path,
        requestId: c.get("requestId"),
        checks,
      },
      503,
      { "content-type": PROBLEM_MEDIA_TYPE },
    );
  });
}

function outcome(ok: boolean): "ok" | "failed" {
  return ok ? "ok" : "failed";
}

async function probe(ping: () => Promise<void>): Promise<{ ok: boolean; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, detail: "ok" };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
