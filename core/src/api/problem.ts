import { z } from "zod";

/**
 * RFC 9457 problem details: every error the API returns has this shape and the media type
 * `application/problem+json`. `errors` lists individual problems with the path of the field they are
 * about (dot/bracket notation, e.g. `input.ip` or `steps[2].tool`).
 */

export const PROBLEM_MEDIA_TYPE = "application/problem+json";
export const PROBLEM_TYPE_BASE = "https://aat.dev/problems/";

export const problemErrorSchema = z
  .object({
    path: z.string().meta({ description: "Where the problem is: a field path, a header or a plan path." }),
    message: z.string(),
    line: z
      .number()
      .int()
      .optional()
      .meta({ description: "Plan YAML errors: 1-based line (0 when unknown)." }),
    column: z.number().int().optional(),
    formatted: z
      .string()
      .optional()
      .meta({ description: "Plan YAML errors: `file:line:col path: message`." }),
  })
  .meta({ id: "ProblemError" });
export type ProblemError = z.infer<typeof problemErrorSchema>;

export const problemSchema = z
  .object({
    type: z
      .string()
      .meta({ description: "A URI naming the kind of problem, e.g. https://aat.dev/problems/validation." }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional().meta({ description: "The request path." }),
    requestId: z.string().optional().meta({ description: "Quote it when reporting a server error." }),
    errors: z.array(problemErrorSchema).optional(),
  })
  .catchall(z.unknown())
  .meta({ id: "Problem" });
export type Problem = z.infer<typeof problemSchema>;

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthenticated",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable content",
  429: "Too many requests",
  500: "Internal server error",
  503: "Service unavailable",
};

export function titleFor(status: number): string {
  return TITLES[status] ?? "Error";
}

export interface ProblemInit {
  /** Short slug, becomes `https://aat.dev/problems/<kind>` (the base the auth middleware uses too). */
  kind: string;
  detail: string;
  title?: string;
  errors?: ProblemError[];
  /** Extra members (e.g. `currentStatus`, `runId`). */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Thrown by handlers; the app's error handler renders it as problem+json. */
export class ApiProblem extends Error {
  readonly kind: string;
  readonly title: string;
  readonly errors?: ProblemError[];
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    readonly status: number,
    init: ProblemInit,
  ) {
    super(init.detail);
    this.name = "ApiProblem";
    this.kind = init.kind;
    this.title = init.title ?? titleFor(status);
    if (init.errors) this.errors = init.errors;
    if (init.extra) this.extra = init.extra;
    if (init.headers) this.headers = init.headers;
  }

  toProblem(instance: string, requestId: string | undefined): Problem {
    return {
      ...this.extra,
      type: `${PROBLEM_TYPE_BASE}${this.kind}`,
      title: this.title,
      status: this.status,
      detail: this.message,
      instance,
      ...(requestId ? { requestId } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/** Render a zod path the way the docs write field paths: `a.b[2].c`. */
export function formatZodPath(path: ReadonlyArray<PropertyKey>, prefix = ""): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** One ProblemError per zod issue, with the field path prefixed by where the value came from. */
export function zodProblemErrors(issues: readonly z.core.$ZodIssue[], prefix = ""): ProblemError[] {
  return issues.flatMap((issue) =>
    // One entry per unknown key, at its own path, so a client can point at the offending field.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          path: formatZodPath([...issue.path, key], prefix),
          message: "unknown field: remove it (the OpenAPI document lists the fields)",
        }))
      : [{ path: formatZodPath(issue.path, prefix), message: issue.message }],
  );
}
