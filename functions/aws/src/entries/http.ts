import { createHttpHandler } from "../http-handler.js";

/** Lambda entry of the HTTP API function (API Gateway HTTP API or Function URL). */
export const handler = createHttpHandler();
