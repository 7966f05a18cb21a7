import { registerAzureSchedules } from "../functions.js";

/** Function app entry with the schedule timer (app.timer) alone: one bundle per function. */
registerAzureSchedules();
