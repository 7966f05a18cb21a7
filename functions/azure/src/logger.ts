import { type CompositionLogger, createJsonLineLogger } from "@aat/functions-serverless";

/** JSON lines on stdout (Application Insights / the Functions host log keeps one entry per line). */
export type AzureLogger = CompositionLogger;
export const createAzureLogger = createJsonLineLogger;
