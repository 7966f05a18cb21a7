import { ToolError } from "@aat/core";

/** A path (or a patch touching one) that would leave its workspace; never retryable. */
export class PathConfinementError extends ToolError {
  constructor(message: string) {
    super(message, { code: "path_outside_workspace", retryable: false });
    this.name = "PathConfinementError";
  }
}

/** A request the caller must change (unknown repository, bad range, patch that does not apply). */
export class CodingInputError extends ToolError {
  constructor(message: string, code = "invalid_input") {
    super(message, { code, retryable: false });
    this.name = "CodingInputError";
  }
}
