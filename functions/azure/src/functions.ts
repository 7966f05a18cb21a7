import { app } from "@azure/functions";
import { createHttpHandler, createTimerHandler, createWorkerHandler } from "./handlers.js";

/**
 * Registers aat's functions with the Azure Functions host (programming model v4):
 * - `api` (app.http, every method and path, anonymous: aat checks its own API keys or OIDC tokens);
 * - `steps` (app.serviceBusQueue on AAT_SERVICEBUS_QUEUE through the connection setting
 *   AAT_SERVICEBUS_CONNECTION_STRING; settlement by the handler's outcome, see createWorkerHandler);
 * - `schedules` (app.timer, every minute unless AAT_AZURE_TIMER_SCHEDULE, an NCRONTAB expression, says
 *   otherwise): fires the plans' due schedule triggers.
 */
export function registerAzureFunctions(): void {
  app.setup({ enableHttpStream: true });
  app.http("api", {
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    authLevel: "anonymous",
    route: "{*path}",
    handler: createHttpHandler(),
  });
  app.serviceBusQueue("steps", {
    connection: "AAT_SERVICEBUS_CONNECTION_STRING",
    queueName: "%AAT_SERVICEBUS_QUEUE%",
    handler: createWorkerHandler(),
  });
  app.timer("schedules", {
    schedule: "%AAT_AZURE_TIMER_SCHEDULE%",
    handler: createTimerHandler(),
  });
}
