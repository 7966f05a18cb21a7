import { registerGcpFunctions } from "./functions.js";

/**
 * The Functions Framework source of aat on Cloud Run functions: deploy it with `--target=api` for the
 * HTTP API, `--target=steps` for the Pub/Sub push trigger and `--target=schedules` for the Cloud
 * Scheduler job that fires the plans' schedules.
 */
registerGcpFunctions();
