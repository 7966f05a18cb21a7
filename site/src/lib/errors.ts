import { AatApiError, AatNetworkError } from "@aat/sdk";

/** One line for a person: the server's reason when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof AatApiError) {
    const first = error.errors[0];
    const where = first ? ` (${first.path}: ${first.message})` : "";
    return `${error.title}${error.detail ? `: ${error.detail}` : ""}${where}`;
  }
  if (error instanceof AatNetworkError) return `Cannot reach the API at ${new URL(error.url).origin}.`;
  return error instanceof Error ? error.message : String(error);
}
