/** Errors the runner raises for callers (the API maps them to 404/422). */

export class PlanNotFoundError extends Error {
  constructor(
    readonly planId: string,
    readonly version?: number,
  ) {
    super(
      version === undefined
        ? `plan "${planId}" does not exist; list plans with GET /v1/plans`
        : `plan "${planId}" has no version ${version}; list versions with GET /v1/plans/${planId}`,
    );
    this.name = "PlanNotFoundError";
  }
}

export class RunInputError extends Error {
  constructor(
    readonly planId: string,
    readonly issues: Array<{ path: string; message: string }>,
  ) {
    super(
      `input does not match the inputs schema of plan "${planId}": ${issues.map((i) => `${i.path || "(input)"}: ${i.message}`).join("; ")}`,
    );
    this.name = "RunInputError";
  }
}

export class RunNotFoundError extends Error {
  constructor(readonly runId: string) {
    super(`run "${runId}" does not exist`);
    this.name = "RunNotFoundError";
  }
}
