import { app } from "@azure/functions";
import { createHttpHandler, createTimerHandler, createWorkerHandler } from "./handlers.js";

/**
 * Registers aat's functions with the Azure Functions host (programming model v4):
 * - `api` (app.http, every method and path, anonymous: aat checks its own API keys or OIDC tokens);
 * - `steps` (app.serviceBusQueue on AAT_SERVICEBUS_QUEUE through the connection setting
 *   AAT_SERVICEBUS_CONNECTION_STRING; settlement by the handler's outcome, see createWorkerHandler);
 * - `schedules` (app.timer, every minute unless AAT_AZURE_TIMER_SCHEDULE, an NCRONTAB expression, says
 *   otherwise): fires the plans' due schedule triggers.
 * Each can also be registered alone (one function app, and one bundle, per function).
 */
export function registerAzureFunctions(): void {
  registerAzureApi();
  registerAzureSteps();
  registerAzureSchedules();
}

let setUp = false;

/**
 * app.setup once per function app, before the first registration (HTTP streams for SSE). Only an app
 * with the `api` function asks for HTTP streams: with them on, the Functions host's Node worker starts an
 * HTTP proxy server for the app at startup, which a steps-only or schedules-only app (one bundle per
 * function) would start for nothing.
 */
function setup(): void {
  if (setUp) return;
  setUp = true;
  app.setup({ enableHttpStream: true });
}

/** `api`: the HTTP API (its own bundle: functions/azure/src/entries/api.ts). */
export function registerAzureApi(): void {
  setup();
  app.http("api", {
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    authLevel: "anonymous",
    route: "{*path}",
    handler: createHttpHandler(),
  });
}

/** `steps`: the Service Bus trigger on the step queue (its own bundle: entries/steps.ts). */
export function registerAzureSteps(): void {
  app.serviceBusQueue("steps", {
    connection: "AAT_SERVICEBUS_CONNECTION_STRING",
    queueName: "%AAT_SERVICEBUS_QUEUE%",
    handler: createWorkerHandler(),
  });
}

/** `schedules`: the timer firing the plans' schedules (its own bundle: entries/schedules.ts). */
export function registerAzureSchedules(): void {
  app.timer("schedules", {
    schedule: "%AAT_AZURE_TIMER_SCHEDULE%",
    handler: createTimerHandler(),
  });
}
