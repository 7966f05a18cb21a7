import type { IncomingHttpHeaders } from "node:http";
import { http } from "@google-cloud/functions-framework";

/** Anything with a Fetch handler: a Hono app (`app.fetch`), such as core's createApiApp. */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/**
 * Registers `app` as a Functions Framework http function: each Express request the framework hands
 * over becomes a Fetch Request (body from the framework's `rawBody`, so nothing is re-serialised) and
 * the app's Response is written back, status, headers and body unchanged. Cloud Scheduler reaches the
 * same function with an ordinary HTTP call.
 */
export function registerHttpFunction(name: string, app: FetchApp): void {
  http(name, async (req, res) => {
    const host = req.headers.host ?? "localhost";
    const url = new URL(req.originalUrl ?? req.url, `${req.protocol || "http"}://${host}`);
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.rawBody !== undefined;
    const request = new Request(url, {
      method: req.method,
      headers: toHeaders(req.headers),
      ...(hasBody ? { body: new Uint8Array(req.rawBody!) } : {}),
    });
    const response = await app.fetch(request);
    res.status(response.status);
    response.headers.forEach((value, key) => {
      res.append(key, value);
    });
    res.end(Buffer.from(await response.arrayBuffer()));
  });
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}
