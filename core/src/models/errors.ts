import type { APICallError } from "@ai-sdk/provider";
import { REDACTED } from "../config/errors.js";
import type { ModelIdentity } from "./registry.js";

/** Why a model call failed, coarse enough for retry policies and dashboards. */
export type ModelFailureKind =
  | "auth"
  | "rate_limited"
  | "provider_unavailable"
  | "timeout"
  | "aborted"
  | "bad_request"
  | "configuration"
  | "invalid_response";

/**
 * A failed model call, reported with the provider's own reason and never with a credential: every
 * configured secret of the alias and anything shaped like an API key is replaced by `<redacted>`.
 */
export class ModelCallError extends Error {
  override readonly name = "ModelCallError";
  readonly kind: ModelFailureKind;
  readonly retryable: boolean;
  readonly status: number | undefined;
  /** The provider's reason (its error message), redacted. */
  readonly reason: string;
  readonly model: ModelIdentity;

  constructor(init: {
    model: ModelIdentity;
    kind: ModelFailureKind;
    retryable: boolean;
    reason: string;
    status?: number;
    hint?: string;
  }) {
    const { model, status, reason, hint } = init;
    super(
      `model "${model.alias}" (${model.provider} ${model.modelId}) failed${status === undefined ? "" : ` with HTTP ${status}`}: ${reason}${hint ? `; ${hint}` : ""}`,
    );
    this.kind = init.kind;
    this.retryable = init.retryable;
    this.status = status;
    this.reason = reason;
    this.model = model;
  }

  static isInstance(error: unknown): error is ModelCallError {
    return error instanceof ModelCallError;
  }
}

// Shapes of common credentials, hidden even when they are not the configured key (a provider may echo another).
const CREDENTIAL_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_-]{6,}/g, REDACTED],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/([?&](?:key|api[-_]?key|token|access_token|sig)=)[^&\s"']+/gi, `$1${REDACTED}`],
];

/** `text` with each of `secrets` and anything shaped like a credential replaced by `<redacted>`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * The AI SDK's errors, recognised by their marker symbols exactly as their `isInstance` does. Importing
 * the classes would make every bundle that reads model configuration carry the whole AI SDK (about
 * 240 KiB) for RetryError, and @ai-sdk/provider's every error class (one module: all or none) into a
 * serverless cold start for the other three; the SDK is loaded when a model is first called
 * (docs/benchmarks.md, cold start). core/test/models/usage-errors.test.ts checks them against the real classes.
 */
function isAiSdkError<T>(error: unknown, name: string): error is T {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[Symbol.for(`vercel.ai.error.${name}`)] === true
  );
}

/** Turns anything a model call threw into a ModelCallError with the provider's reason, redacted. */
export function toModelCallError(
  error: unknown,
  model: ModelIdentity,
  secrets: readonly string[],
): ModelCallError {
  if (ModelCallError.isInstance(error)) return error;
  const cause = isAiSdkError<{ lastError: unknown }>(error, "AI_RetryError") ? error.lastError : error;
  const redact = (text: string) => redactSecrets(text, secrets);
  const hintFor = (kind: ModelFailureKind) => HINTS[kind]?.(model);

  if (isAiSdkError<APICallError>(cause, "AI_APICallError")) {
    const status = cause.statusCode;
    const kind = kindOfStatus(status);
    const reason = redact(providerReason(cause.responseBody) ?? cause.message);
    const hint = hintFor(kind);
    return new ModelCallError({
      model,
      kind,
      retryable: cause.isRetryable || kind === "rate_limited" || kind === "provider_unavailable",
      reason,
      ...(status !== undefined ? { status } : {}),
      ...(hint ? { hint } : {}),
    });
  }
  if (isAiSdkError<Error>(cause, "AI_LoadAPIKeyError") || isAiSdkError<Error>(cause, "AI_LoadSettingError")) {
    const hint = hintFor("configuration");
    return new ModelCallError({
      model,
      kind: "configuration",
      retryable: false,
      reason: redact(cause.message),
      ...(hint ? { hint } : {}),
    });
  }
  // SDKs that sign requests (Bedrock SigV4, Vertex OAuth) report missing credentials as plain Errors.
  if (cause instanceof Error && MISSING_CREDENTIALS.test(cause.message)) {
    const hint = hintFor("configuration");
    return new ModelCallError({
      model,
      kind: "configuration",
      retryable: false,
      reason: redact(cause.message),
      ...(hint ? { hint } : {}),
    });
  }
  if (cause instanceof Error && (cause.name === "TimeoutError" || /timed? ?out/i.test(cause.message))) {
    return new ModelCallError({ model, kind: "timeout", retryable: true, reason: redact(cause.message) });
  }
  if (cause instanceof Error && cause.name === "AbortError") {
    return new ModelCallError({ model, kind: "aborted", retryable: false, reason: redact(cause.message) });
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ModelCallError({ model, kind: "invalid_response", retryable: false, reason: redact(message) });
}

const MISSING_CREDENTIALS =
  /requires AWS credentials|credential provider failed|Could not load the default credentials|API key is missing/i;

function kindOfStatus(status: number | undefined): ModelFailureKind {
  if (status === undefined) return "provider_unavailable"; // no answer at all: connection refused, reset, DNS
  if (status === 401 || status === 403) return "auth";
  if (status === 408) return "timeout";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "provider_unavailable";
  return "bad_request";
}

const envName = (alias: string) => `AAT_MODEL_${alias.toUpperCase()}`;

const HINTS: Partial<Record<ModelFailureKind, (model: ModelIdentity) => string>> = {
  auth: (m) =>
    `check the credentials of models.providers.${m.alias} (${envName(m.alias)}_API_KEY, or the provider's own variables)`,
  configuration: (m) => `check models.providers.${m.alias} (${envName(m.alias)}_*) and docs/models.md`,
  bad_request: (m) =>
    `check models.providers.${m.alias}.model ("${m.modelId}") and the request the step builds`,
};

/** The human part of a provider's error body: OpenAI, Anthropic, Google, Bedrock and most compatibles. */
function providerReason(body: string | undefined): string | undefined {
  if (!body) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const trimmed = body.trim();
    return trimmed ? trimmed.slice(0, 500) : undefined;
  }
  const candidates = [
    at(parsed, ["error", "message"]),
    at(parsed, ["message"]),
    at(parsed, ["Message"]),
    at(parsed, ["error"]),
    at(parsed, ["detail"]),
  ];
  const found = candidates.find((c): c is string => typeof c === "string" && c.length > 0);
  const type =
    at(parsed, ["error", "type"]) ?? at(parsed, ["error", "status"]) ?? at(parsed, ["error", "code"]);
  if (found === undefined) return body.slice(0, 500);
  return typeof type === "string" && !found.includes(type) ? `${found} (${type})` : found;
}

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
