import { type CompositionLogger, createJsonLineLogger } from "@aat/functions-serverless";

/** JSON lines on stdout with Cloud Logging's `severity` field (Cloud Run keeps one entry per line). */
export type GcpLogger = CompositionLogger;
export const createGcpLogger = createJsonLineLogger;
