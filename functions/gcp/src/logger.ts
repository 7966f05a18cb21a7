import type { CompositionLogger } from "@aat/functions-serverless";
import { createJsonLineLogger } from "@aat/functions-serverless/logger";

/** JSON lines on stdout with Cloud Logging's `severity` field (Cloud Run keeps one entry per line). */
export type GcpLogger = CompositionLogger;
export const createGcpLogger = createJsonLineLogger;
