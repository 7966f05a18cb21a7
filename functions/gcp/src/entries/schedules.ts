import { registerSchedulesFunction } from "../functions.js";

/** Functions Framework source of the Cloud Scheduler target (`--target=schedules`) alone: one bundle per function. */
registerSchedulesFunction();
