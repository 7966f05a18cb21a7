export {
  type AatClient,
  type AatClientOptions,
  createAatClient,
  type LoggedEvent,
  type RunStatus,
  type RunStreamItem,
  type StreamOptions,
} from "./client.js";
export { AatApiError, AatError, AatNetworkError, type Problem, type ProblemError } from "./errors.js";
export type { components, operations, paths } from "./generated/openapi.js";
export { type Page, pages, paginate, take } from "./paging.js";
export { type ReconnectInfo, type SseMessage, type SseStreamOptions, streamSse } from "./sse.js";
export { unwrap } from "./unwrap.js";

import type { components } from "./generated/openapi.js";

/** Shorthand for a named schema of the API: `Schema<"RunState">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
