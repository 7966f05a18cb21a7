import { AatApiError, AatNetworkError } from "@aat/sdk";

/** A failure the CLI explains in one line; `exitCode` 2 is a usage error, 1 anything else. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3 = 1,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** One line saying what went wrong and what to do about it. */
export function describeError(error: unknown): string {
  if (error instanceof AatApiError) {
    const fields = error.errors
      .slice(0, 5)
      .map((item) => (item.formatted ? item.formatted : `${item.path}: ${item.message}`))
      .join("; ");
    const base = `${error.status} ${error.title}${error.detail ? `: ${error.detail}` : ""}${fields ? ` (${fields})` : ""}`;
    return `${base}${hintFor(error.status)}`;
  }
  if (error instanceof AatNetworkError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

function hintFor(status: number): string {
  if (status === 401) return "; log in again with `aat login --url URL --key KEY` or set AAT_API_KEY";
  if (status === 403) return "; use a key with a role this route allows (see `aat keys list`)";
  return "";
}
