import { createScheduleHandler } from "../schedule-handler.js";

/** Lambda entry of the schedule function (EventBridge Scheduler target). */
export const handler = createScheduleHandler();
