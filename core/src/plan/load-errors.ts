// How a plan's load errors are reported: apart from the loader, so code that only reports them (the
// API's error mapping) does not load the YAML parser.

/** One error in a plan file: where it is (1-based line and column; 0 when unknown), and what to do. */
export interface PlanLoadError {
  file: string;
  line: number;
  column: number;
  /** Path inside the document, like `steps[3].with.ip`; "" for the document as a whole. */
  path: string;
  message: string;
}

/** Thrown where a plan must be valid to go on (publishing, startup); carries every error. */
export class PlanLoadFailure extends Error {
  constructor(readonly errors: PlanLoadError[]) {
    super(errors.map(formatPlanError).join("\n"));
    this.name = "PlanLoadFailure";
  }
}

/** `file:line:col path: message`, leaving out the parts that are unknown. */
export function formatPlanError(error: PlanLoadError): string {
  const where = error.line > 0 ? `${error.file}:${error.line}:${error.column}` : error.file;
  const head = [where, error.path].filter((part) => part !== "").join(" ");
  return head ? `${head}: ${error.message}` : error.message;
}
