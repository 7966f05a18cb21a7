import type { Span, Tracer } from "@opentelemetry/api";
import type { Secrets } from "../secrets/secrets.js";
import { ToolError } from "./errors.js";
import type { ToolCallContext, ToolContext, ToolLogger, ToolSecrets } from "./types.js";

/** A logger that drops everything: tools log freely without checking whether anyone listens. */
export const silentLogger: ToolLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** The full context a tool sees, from what the caller passed and the span of this call. */
export function completeToolContext(toolName: string, call: ToolCallContext, span: Span): ToolContext {
  const bindings = { tool: toolName, runId: call.runId, stepKey: call.stepKey, attempt: call.attempt };
  const logger = call.logger ?? silentLogger;
  return {
    runId: call.runId,
    stepKey: call.stepKey,
    attempt: call.attempt,
    idempotencyKey: call.idempotencyKey,
    signal: call.signal,
    secrets: toolSecrets(call.secrets),
    logger: logger.child ? logger.child(bindings) : logger,
    span,
    ...(call.approval ? { approval: call.approval } : {}),
  };
}

/** Secrets by name through the Secrets port; without one every secret is missing, with a message saying so. */
export function toolSecrets(secrets: Secrets | undefined): ToolSecrets {
  return {
    get: (name) => (secrets ? secrets.get(name) : Promise.resolve(undefined)),
    async require(name) {
      const value = secrets ? await secrets.get(name) : undefined;
      if (value !== undefined) return value;
      const where = secrets?.describe?.(name);
      throw new ToolError(
        secrets
          ? `secret "${name}" is not configured${where ? `: set ${where}` : ""}`
          : `secret "${name}" is not available: this deployment passes no Secrets port to tools (services.secrets)`,
        { code: "secret_missing", retryable: false },
      );
    },
  };
}

/**
 * The tool-related services of a PlanFactory (`services.secrets`, `services.logger`, `services.tracer`),
 * each taken only when it has the right shape, ready to spread into a ToolCallContext.
 */
export function toolServices(
  services: Readonly<Record<string, unknown>>,
): Pick<ToolCallContext, "secrets" | "logger" | "tracer"> {
  const picked: Pick<ToolCallContext, "secrets" | "logger" | "tracer"> = {};
  if (hasMethods<Secrets>(services.secrets, ["get"])) picked.secrets = services.secrets;
  if (hasMethods<ToolLogger>(services.logger, ["debug", "info", "warn", "error"])) {
    picked.logger = services.logger;
  }
  if (hasMethods<Tracer>(services.tracer, ["startSpan"])) picked.tracer = services.tracer;
  return picked;
}

function hasMethods<T>(value: unknown, methods: readonly string[]): value is T {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((method) => typeof record[method] === "function");
}
