import { AatError } from "./errors.js";

/**
 * The data of an openapi-fetch result. The client's middleware already threw an AatApiError for an
 * error status, so what is left is a success; a 204 (no body) gives `undefined` typed as the data.
 */
export async function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(
  result: Promise<R> | R,
): Promise<NonNullable<R["data"]>> {
  const settled = await result;
  if (settled.error !== undefined) {
    // Only reachable with a client built without the SDK's middleware.
    throw new AatError(`${settled.response.status} ${JSON.stringify(settled.error)}`);
  }
  return settled.data as NonNullable<R["data"]>;
}
