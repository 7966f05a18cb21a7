export { createApi, createApiApp, OPENAPI_PATH } from "./app.js";
export type { ApiConfig, ApiDeps, ApiEnv, ApiLogger, ApiVariables, PlanStore } from "./deps.js";
export { RunEventHub, type RunEventListener } from "./event-hub.js";
export type { HookEndpoint, HookHttpAnswer, HookHttpRequest } from "./hook-endpoint.js";
export { ApiProblem, PROBLEM_MEDIA_TYPE, type Problem, type ProblemError, problemSchema } from "./problem.js";
export { REQUEST_ID_HEADER } from "./request-id.js";
export { type AnalyticsApiDeps, ASK_PLAN_ID } from "./routes/analytics.js";
export { CODING_PLAN_IDS } from "./routes/coding.js";
export { DELIVERY_ID_HEADERS } from "./routes/hooks.js";
export {
  SIGNATURE_FORM,
  SIGNATURE_HEADER,
  type SignatureCheck,
  signWebhook,
  verifyWebhookSignature,
} from "./webhook-signature.js";
