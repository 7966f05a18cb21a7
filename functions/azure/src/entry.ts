import { registerAzureFunctions } from "./functions.js";

/** The function app's entry (package.json "main"): registers api, steps and schedules with the host. */
registerAzureFunctions();
