import type { CompositionLogger } from "@aat/functions-serverless";
import { createJsonLineLogger } from "@aat/functions-serverless/logger";

/** JSON lines on stdout (Application Insights / the Functions host log keeps one entry per line). */
export type AzureLogger = CompositionLogger;
export const createAzureLogger = createJsonLineLogger;
