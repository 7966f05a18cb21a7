import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { formatPlanError, PlanLoadFailure } from "../../plan/load-errors.js";
import { summarisePlan } from "../../plan/repository.js";
import { dryRun } from "../../runner/dry-run.js";
import type { ApiApp, ApiContext } from "../context.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";
import {
  dryRunBodySchema,
  dryRunResponseSchema,
  planDetailSchema,
  planIdParamsSchema,
  planSummarySchema,
  planVersionParamsSchema,
  planVersionSchema,
  publishResponseSchema,
  validateResponseSchema,
  yamlBodySchema,
} from "../schemas.js";

const YAML_TEXT = z.string().meta({ description: "The plan's YAML text." });

/** A plan text is sent as YAML (any of these types) or as JSON `{ "yaml": "…" }`. */
const planTextBody = {
  required: false,
  content: {
    "application/yaml": { schema: YAML_TEXT },
    "application/x-yaml": { schema: YAML_TEXT },
    "text/yaml": { schema: YAML_TEXT },
    "text/plain": { schema: YAML_TEXT },
    "application/json": { schema: yamlBodySchema },
  },
};

const READERS = ["responder", "analyst", "developer", "viewer"] as const;

const listPlans = createRoute({
  method: "get",
  path: "/v1/plans",
  tags: ["plans"],
  summary: "List plans (current versions)",
  ...allowRoles(...READERS),
  responses: {
    200: {
      description: "Every plan's current version.",
      content: { "application/json": { schema: z.object({ items: z.array(planSummarySchema) }) } },
    },
    ...problems(...AUTH_PROBLEMS),
  },
});

const getPlan = createRoute({
  method: "get",
  path: "/v1/plans/{id}",
  tags: ["plans"],
  summary: "A plan and its versions",
  ...allowRoles(...READERS),
  request: { params: planIdParamsSchema },
  responses: {
    200: { description: "The plan.", content: { "application/json": { schema: planDetailSchema } } },
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});

const getPlanVersion = createRoute({
  method: "get",
  path: "/v1/plans/{id}/versions/{v}",
  tags: ["plans"],
  summary: "One version of a plan: definition and YAML source",
  ...allowRoles(...READERS),
  request: { params: planVersionParamsSchema },
  responses: {
    200: { description: "The version.", content: { "application/json": { schema: planVersionSchema } } },
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});

const validatePlan = createRoute({
  method: "post",
  path: "/v1/plans/validate",
  tags: ["plans"],
  summary: "Validate a plan text",
  description:
    "Reports every problem with its line, column and path. An invalid plan is the result here (200 with valid: false), not an error.",
  ...allowRoles("developer"),
  request: { body: planTextBody },
  responses: {
    200: {
      description: "The validation result.",
      content: { "application/json": { schema: validateResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 413, 415, 422),
  },
});

const publishPlan = createRoute({
  method: "put",
  path: "/v1/plans/{id}",
  tags: ["plans"],
  summary: "Publish a new version of a plan",
  description:
    "Validates the YAML and stores it as the next version (the text's own `version` is replaced). New runs use it at once; running runs keep their version. Unchanged content answers 200 with unchanged: true. 422 lists every problem; 409 when the text's id differs from the path.",
  ...allowRoles("developer"),
  request: { params: planIdParamsSchema, body: planTextBody },
  responses: {
    200: {
      description: "The content equals the current version; nothing was written.",
      content: { "application/json": { schema: publishResponseSchema } },
    },
    201: {
      description: "Published as a new version.",
      content: { "application/json": { schema: publishResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 409, 413, 415, 422),
  },
});

const dryRunRoute = createRoute({
  method: "post",
  path: "/v1/plans/dry-run",
  tags: ["plans"],
  summary: "Run a plan on a throw-away engine with stubbed tools",
  description:
    'Runs a plan text (or a published plan) on fresh scratch storage. Tool and agent steps return the stub given for their step key, step id or (tool steps) tool name; `{ "$fail": "message" }` makes a step fail; a step without a stub fails with a message naming the stub to add. Wait steps are fast-forwarded; approval steps wait and the result says so (complete: false, waitingFor). Nothing is stored.',
  ...allowRoles("developer"),
  request: { body: { required: true, content: { "application/json": { schema: dryRunBodySchema } } } },
  responses: {
    200: {
      description: "The run as it stands after every step that could run did.",
      content: { "application/json": { schema: dryRunResponseSchema } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404, 413, 415, 422),
  },
});

export function registerPlanRoutes(app: ApiApp, ctx: ApiContext): void {
  const { deps } = ctx;

  app.openapi(listPlans, async (c) => {
    const items = await deps.plans.list();
    items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return c.json({ items }, 200);
  });

  app.openapi(getPlan, async (c) => {
    const { id } = c.req.valid("param");
    const current = await deps.plans.get(id);
    if (!current) throw planNotFound(id);
    const versions = await deps.plans.versions(id);
    return c.json({ plan: summarisePlan(current), versions }, 200);
  });

  app.openapi(getPlanVersion, async (c) => {
    const { id, v } = c.req.valid("param");
    const stored = await deps.plans.get(id, v);
    if (!stored) {
      throw new ApiProblem(404, {
        kind: "not-found",
        detail: `plan "${id}" has no version ${v}; GET /v1/plans/${id} lists its versions`,
        extra: { planId: id, version: v },
      });
    }
    return c.json(
      {
        id,
        version: stored.version,
        definition: stored.definition as unknown as Record<string, unknown>,
        source: stored.source,
        origin: stored.origin,
        ...(stored.publishedAt !== undefined ? { publishedAt: stored.publishedAt } : {}),
        ...(stored.publishedBy !== undefined ? { publishedBy: stored.publishedBy } : {}),
      },
      200,
    );
  });

  app.openapi(validatePlan, async (c) => {
    const text = await planText(c);
    const loaded = (await planLoader()).loadPlanFile(text, { ...deps.checks, file: "plan.yaml" });
    if (!loaded.ok) {
      return c.json(
        {
          valid: false,
          errors: loaded.errors.map((e) => ({ ...planErrorFields(e), formatted: formatPlanError(e) })),
        },
        200,
      );
    }
    const { id, version, workflow, title } = loaded.definition;
    return c.json({ valid: true, errors: [], plan: { id, version, workflow, title } }, 200);
  });

  app.openapi(publishPlan, async (c) => {
    const { id } = c.req.valid("param");
    const text = await planText(c);
    const file = `${id}.yaml`;
    const loaded = (await planLoader()).loadPlanFile(text, { ...deps.checks, file });
    if (!loaded.ok) throw new PlanLoadFailure(loaded.errors);
    if (loaded.definition.id !== id) {
      throw new ApiProblem(409, {
        kind: "plan-id-mismatch",
        detail: `the plan text has id "${loaded.definition.id}" but the path says "${id}": PUT it to /v1/plans/${loaded.definition.id}, or change its id`,
        errors: [{ path: "id", message: `must be "${id}"` }],
      });
    }
    const published = await deps.plans.publish(text, { publishedBy: c.get("principal").id, file });
    ctx.triggers.invalidate();
    c.set("audit", {
      target: `plan:${id}`,
      details: { version: published.version, unchanged: published.unchanged },
    });
    if (published.unchanged) return c.json(published, 200);
    return c.json(published, 201, { Location: `/v1/plans/${id}/versions/${published.version}` });
  });

  app.openapi(dryRunRoute, async (c) => {
    const body = c.req.valid("json");
    const input = body.input ?? {};
    let definition: Parameters<typeof dryRun>[0]["definition"];
    let version: number;
    if (body.yaml !== undefined) {
      const loaded = (await planLoader()).loadPlanFile(body.yaml, { ...deps.checks, file: "dry-run.yaml" });
      if (!loaded.ok) throw new PlanLoadFailure(loaded.errors);
      definition = loaded.definition;
      version = loaded.definition.version;
    } else {
      const planId = body.planId!;
      const stored = await deps.plans.get(planId, body.version);
      if (!stored) throw planNotFound(planId, body.version);
      definition = stored.definition;
      version = stored.version;
    }
    ctx.inputs.check(definition, version, input);
    const result = await dryRun({
      definition,
      version,
      input,
      stubs: body.stubs,
      scratch: deps.scratch(),
      plans: deps.plans,
      clock: deps.clock,
    });
    return c.json(result, 200);
  });
}

function planErrorFields(e: { line: number; column: number; path: string; message: string }) {
  return { line: e.line, column: e.column, path: e.path, message: e.message };
}

function planNotFound(id: string, version?: number): ApiProblem {
  return new ApiProblem(404, {
    kind: "not-found",
    detail:
      version === undefined
        ? `plan "${id}" does not exist; GET /v1/plans lists the plans`
        : `plan "${id}" has no version ${version}; GET /v1/plans/${id} lists its versions`,
    extra: { planId: id },
  });
}

/** The YAML of a plan-text request: the raw body, or `yaml` of a JSON body (already validated). */
async function planText(c: Context): Promise<string> {
  const type = c.req.header("content-type") ?? "";
  if (/^application\/json\b/i.test(type)) {
    return (c.req.valid("json" as never) as { yaml: string }).yaml;
  }
  const text = await c.req.text();
  if (text.trim() === "") {
    throw new ApiProblem(422, {
      kind: "validation",
      detail: "the request body is empty: send the plan's YAML (Content-Type: application/yaml)",
      errors: [{ path: "body", message: "empty" }],
    });
  }
  return text;
}

/** The plan loader and its YAML parser, loaded by the first request that sends plan text (not at start). */
function planLoader(): Promise<typeof import("../../plan/loader.js")> {
  return import("../../plan/loader.js");
}
