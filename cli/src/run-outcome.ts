import { CliError } from "./errors.js";
import type { FollowResult } from "./follow.js";
import { printJson } from "./output.js";

/** Prints a followed run's output and sets the exit code: 0 succeeded, 1 failed, 3 cancelled. */
export function reportOutcome(runId: string, result: FollowResult, json: boolean): void {
  if (json) printJson({ runId, ...result });
  else if (result.output !== undefined) process.stdout.write(`${JSON.stringify(result.output, null, 2)}\n`);
  if (result.status === "failed") {
    const message = (result.error as { message?: string } | undefined)?.message;
    throw new CliError(
      `run ${runId} failed${message ? `: ${message}` : ""}; see \`aat runs show ${runId}\``,
      1,
    );
  }
  if (result.status === "cancelled") throw new CliError(`run ${runId} was cancelled`, 3);
}
