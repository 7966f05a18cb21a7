import { registerAzureSteps } from "../functions.js";

/** Function app entry with the Service Bus step trigger (app.serviceBusQueue) alone: one bundle per function. */
registerAzureSteps();
