import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireRoles } from "../../auth/middleware.js";
import type { Role } from "../../auth/roles.js";
import type { ApiApp, ApiContext } from "../context.js";
import { toApiProblem } from "../errors.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";

export const MCP_PATH = "/v1/mcp";

/** The roles that may start runs (as POST /v1/runs); admin always may. */
const MCP_ROLES: Role[] = ["responder", "analyst", "developer"];

const DEFAULT_ENDPOINT = { enabled: true, waitMs: 30_000 };

const jsonRpcMessage = z
  .object({
    jsonrpc: z.literal("2.0"),
    method: z.string().optional(),
    id: z.union([z.string(), z.number()]).optional(),
  })
  .catchall(z.unknown())
  .meta({ id: "JsonRpcMessage", description: "A JSON-RPC 2.0 message of the Model Context Protocol." });

const mcpRoute = createRoute({
  method: "post",
  path: MCP_PATH,
  tags: ["mcp"],
  summary: "Model Context Protocol endpoint (streamable HTTP, stateless)",
  description:
    "MCP clients list the published plans (those with a manual trigger) as tools `plan_<id with . as _>` and call them: a call starts a run with the arguments as input and answers with its output when it finishes within mcp.endpoint.waitMs, else with its runId and status; the tool `get_run` reads a run. JSON responses, no sessions; GET and DELETE answer 405.",
  ...allowRoles(...MCP_ROLES),
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: z.union([jsonRpcMessage, z.array(jsonRpcMessage)]) } },
    },
  },
  responses: {
    200: {
      description: "The JSON-RPC response(s).",
      content: { "application/json": { schema: z.union([jsonRpcMessage, z.array(jsonRpcMessage)]) } },
    },
    202: { description: "Notifications only: accepted, nothing to answer." },
    ...problems(...AUTH_PROBLEMS, 413),
  },
});

/**
 * POST /v1/mcp: a fresh SDK server and web-standard transport per request, so any replica answers any
 * request and nothing is kept between them. Authentication is the API's own (`/v1/*`); the roles are
 * those that may start runs.
 */
export function registerMcpRoutes(app: ApiApp, ctx: ApiContext): void {
  const { deps } = ctx;
  const endpoint = deps.config.mcp?.endpoint ?? DEFAULT_ENDPOINT;
  if (!endpoint.enabled) return;
  // Documented only: the handler below is plain Hono, so JSON-RPC errors stay JSON-RPC (not problem+json).
  const { middleware: _roleCheck, ...documented } = mcpRoute;
  app.openAPIRegistry.registerPath(documented);

  app.post(MCP_PATH, requireRoles(...MCP_ROLES), async (c) => {
    const principal = c.get("principal");
    // The MCP SDK (and its JSON Schema validator, ajv) loads on the first MCP request, not with the API.
    const [{ createPlanMcpServer }, { WebStandardStreamableHTTPServerTransport }] = await Promise.all([
      import("../../mcp/server.js"),
      import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"),
    ]);
    const server = createPlanMcpServer({
      plans: deps.plans,
      runner: deps.runner,
      start: (planId, input) => ctx.starter.start({ planId, input }, principal.id),
      describeStartError: (error) => {
        const problem = toApiProblem(error);
        if (!problem || problem.status >= 500) return undefined;
        return {
          message: problem.message,
          ...(problem.errors
            ? { errors: problem.errors.map(({ path, message }) => ({ path, message })) }
            : {}),
        };
      },
      waitMs: endpoint.waitMs,
      version: deps.version,
      ...(deps.events ? { events: deps.events } : {}),
      onSkipped: (planId, reason) => ctx.logger.warn({ planId, reason }, "plan not offered as an MCP tool"),
      onRunStarted: (run) =>
        c.set("audit", {
          target: `run:${run.runId}`,
          details: {
            via: "mcp",
            planId: run.state.plan.id,
            planVersion: run.state.plan.version,
            created: run.created,
          },
        }),
    });
    // No session id generator: stateless. JSON responses: the answer comes in one body, proxies and
    // serverless platforms need no streaming.
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      await server.close();
    }
  });

  // Stateless: no server-initiated stream (GET) and no session to end (DELETE), as the spec allows.
  app.on(["GET", "DELETE"], MCP_PATH, requireRoles(...MCP_ROLES), (c) =>
    c.json(
      {
        jsonrpc: "2.0",
        error: {
          code: -32000,
          message: `${c.req.method} is not supported: this MCP endpoint is stateless, send POST`,
        },
        id: null,
      },
      405,
      { allow: "POST" },
    ),
  );
}
