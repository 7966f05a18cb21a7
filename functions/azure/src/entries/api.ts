import { registerAzureApi } from "../functions.js";

/** Function app entry with the HTTP API (app.http) alone: one bundle per function. */
registerAzureApi();
