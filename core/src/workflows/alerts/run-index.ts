const RUN_INDEX_PREFIX = "alerts/by-run/";

/**
 * The key of the run → alert index entry. In a module of its own: the triage-status hook (in every
 * serverless start) needs only this from ingestion, and importing it from ingest.ts put the ingestor and
 * every source mapper into the HTTP handlers' start chunk (docs/benchmarks.md, cold start).
 */
export function runIndexKey(runId: string): string {
  return RUN_INDEX_PREFIX + runId;
}
