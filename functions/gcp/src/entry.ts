import { registerGcpFunctions } from "./functions.js";

/**
 * The Functions Framework source of aat on Cloud Run functions: deploy it with `--target=api` for the
 * HTTP API (and Cloud Scheduler) and `--target=steps` for the Pub/Sub push trigger.
 */
registerGcpFunctions();
