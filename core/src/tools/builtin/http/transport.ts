import type { IncomingHttpHeaders } from "node:http";
import type { LookupFunction } from "node:net";
import type { Readable } from "node:stream";
import { ToolError } from "../../errors.js";
import type { ResolvedAddress } from "./egress-guard.js";

export interface OutgoingRequest {
  url: URL;
  /** Where to connect: the address the egress guard approved for `url`'s host. */
  address: ResolvedAddress;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  maxResponseBytes: number;
  signal: AbortSignal;
  /** Trusted CA certificates for https (Node's defaults when absent). */
  ca?: readonly string[];
}

export interface ReceivedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP exchange over Node's http/https client, connected to a fixed address. The URL keeps the
 * host name, so the Host header, TLS SNI and certificate check use the name while the socket goes to
 * the address that was checked. No connection pooling: a pooled socket could belong to another address.
 * The body (decompressed, when the server compressed it) may not exceed `maxResponseBytes`.
 */
export function exchange(request: OutgoingRequest): Promise<ReceivedResponse> {
  // node:http, https and zlib are loaded when the first request goes out, not imported: every serverless
  // cold start imports the built-in tools, and these modules (with tls and net under https) cost about
  // 20 ms of CPU to load (docs/benchmarks.md, cold start). process.getBuiltinModule returns the same
  // module objects an import would.
  const send =
    request.url.protocol === "https:"
      ? process.getBuiltinModule("node:https").request
      : process.getBuiltinModule("node:http").request;
  return new Promise<ReceivedResponse>((resolve, reject) => {
    const outgoing = send(request.url, {
      method: request.method,
      headers: request.headers,
      agent: false,
      lookup: pinnedLookup(request.address),
      signal: request.signal,
      ...(request.ca ? { ca: [...request.ca] } : {}),
    });
    outgoing.on("error", reject);
    // Aborting mid-body does not always surface as a stream error; settle on the signal itself.
    request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
    outgoing.on("response", (incoming) => {
      const decoded = decode(incoming, incoming.headers["content-encoding"]);
      const chunks: Buffer[] = [];
      let size = 0;
      decoded.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxResponseBytes) {
          const error = new ToolError(
            `the response from ${request.url.host} is larger than the ${request.maxResponseBytes}-byte limit`,
            { code: "response_too_large", retryable: false },
          );
          incoming.destroy(error);
          decoded.destroy(error);
          reject(error);
          return;
        }
        chunks.push(chunk);
      });
      decoded.on("error", reject);
      incoming.on("error", reject);
      decoded.on("end", () =>
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks) }),
      );
    });
    outgoing.end(request.body);
  });
}

/** A lookup that answers every question with the approved address, so Node never asks DNS again. */
export function pinnedLookup(address: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) {
      callback(null, [{ address: address.address, family: address.family }]);
    } else {
      callback(null, address.address, address.family);
    }
  };
}

function decode(stream: Readable, encoding: string | undefined): Readable {
  const { createBrotliDecompress, createGunzip, createInflate } = process.getBuiltinModule("node:zlib");
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return stream.pipe(createGunzip());
    case "deflate":
      return stream.pipe(createInflate());
    case "br":
      return stream.pipe(createBrotliDecompress());
    default:
      return stream;
  }
}
