import { ToolError } from "../../errors.js";
import type { EgressResponse } from "../egress/client.js";

/**
 * A non-2xx answer from a service an action called, as a ToolError: 408, 429 and 5xx are worth a retry,
 * other 4xx are not (the request itself is wrong: fix the configuration or the input).
 */
export function actionFailure(what: string, response: EgressResponse): ToolError {
  const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
  const snippet = response.text.replace(/\s+/g, " ").slice(0, 300);
  return new ToolError(`${what} answered HTTP ${response.status}${snippet ? `: ${snippet}` : ""}`, {
    code: retryable ? "upstream_unavailable" : "upstream_rejected",
    retryable,
    details: { status: response.status },
  });
}

export function isSuccess(response: EgressResponse): boolean {
  return response.status >= 200 && response.status < 300;
}
