import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostResolver } from "../../src/tools/builtin/http/egress-guard.js";
import { type HttpRequestOptions, httpRequestTool } from "../../src/tools/builtin/http-request.js";
import { callTool } from "../../src/tools/call.js";
import { ToolError, ToolInputError } from "../../src/tools/errors.js";
import { callContext, mapSecrets, recordingLogger } from "./helpers.js";

const SECRET = 's3cr3t-"token"-value';
const API_KEY = "key-0123456789";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A loopback server with the routes the tests need; it records every request it gets. */
async function startServer(seen: Seen[]): Promise<{ server: Server; base: string; port: number }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    route(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, base: `http://127.0.0.1:${port}`, port };
}

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? "/", "http://x");
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  switch (url.pathname) {
    case "/json":
      return void json(200, { hello: "world", query: Object.fromEntries(url.searchParams) });
    case "/echo":
      return void json(200, { method: req.method, headers: req.headers, body });
    case "/text":
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      return void res.end("plain words");
    case "/not-json":
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end("{oops");
    case "/binary-echo":
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void res.end(Buffer.from(`\u0000\u0001${req.headers.authorization ?? ""}\u0002`));
    case "/echo-header":
      res.writeHead(204, { "x-echo": String(req.headers["x-api-key"] ?? "") });
      return void res.end();
    case "/big":
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.end("x".repeat(50_000));
    case "/gzip":
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      return void res.end(gzipSync(JSON.stringify({ zipped: true })));
    case "/gzip-bomb":
      res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
      return void res.end(gzipSync(Buffer.alloc(20 * 1024 * 1024)));
    case "/stall":
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.write("partial"); // headers and some body, then nothing
    case "/slow":
      return; // never answers
    case "/redirect": {
      const to = url.searchParams.get("to") ?? "/json";
      res.writeHead(Number(url.searchParams.get("status") ?? 302), { location: to });
      return void res.end();
    }
    case "/chain": {
      const n = Number(url.searchParams.get("n"));
      res.writeHead(302, { location: n > 0 ? `/chain?n=${n - 1}` : "/json" });
      return void res.end();
    }
    default:
      res.writeHead(404);
      res.end();
  }
}

const seen: Seen[] = [];
const otherSeen: Seen[] = [];
let base = "";
let port = 0;
let otherBase = "";
const servers: Server[] = [];

beforeAll(async () => {
  const main = await startServer(seen);
  const other = await startServer(otherSeen);
  servers.push(main.server, other.server);
  base = main.base;
  port = main.port;
  otherBase = other.base;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A resolver over a fixed table; it records what it was asked. */
function tableResolver(table: Record<string, string[]>, asked: string[] = []): HostResolver {
  return async (host) => {
    asked.push(host);
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

function tool(options: Partial<HttpRequestOptions> = {}) {
  return httpRequestTool({
    allowHosts: ["127.0.0.1"],
    maxResponseBytes: 1024 * 1024,
    timeoutMs: 5_000,
    resolve: tableResolver({}),
    ...options,
  });
}

const secrets = mapSecrets({ "api-token": SECRET, "api-key": API_KEY });

async function call(input: unknown, options: Partial<HttpRequestOptions> = {}, logger = recordingLogger()) {
  return (await callTool(tool(options), input, callContext({ secrets, logger }))) as {
    status: number;
    ok: boolean;
    url: string;
    headers: Record<string, string>;
    bodyType: string;
    body: unknown;
    redirects: string[];
  };
}

async function failure(input: unknown, options: Partial<HttpRequestOptions> = {}): Promise<ToolError> {
  const error = await call(input, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

describe("http.request: requests and responses", () => {
  it("GETs JSON with query parameters and returns status, headers and the parsed body", async () => {
    const out = await call({ url: `${base}/json`, query: { q: "a b", n: 2 } });
    expect(out).toMatchObject({
      status: 200,
      ok: true,
      bodyType: "json",
      body: { hello: "world", query: { q: "a b", n: "2" } },
      redirects: [],
    });
    expect(out.headers["content-type"]).toBe("application/json");
  });

  it("POSTs a JSON body and a text body with the matching content types", async () => {
    const json = await call({ url: `${base}/echo`, method: "POST", json: { a: [1, 2] } });
    expect(json.body).toMatchObject({
      method: "POST",
      body: '{"a":[1,2]}',
      headers: { "content-type": "application/json" },
    });
    const text = await call({ url: `${base}/echo`, method: "PUT", body: "hi", headers: { "X-Trace": "t1" } });
    expect(text.body).toMatchObject({ method: "PUT", body: "hi", headers: { "x-trace": "t1" } });
  });

  it("returns text for textual types, fails clearly when JSON was demanded and is not, decompresses gzip", async () => {
    expect(await call({ url: `${base}/text` })).toMatchObject({ bodyType: "text", body: "plain words" });
    expect(await call({ url: `${base}/not-json` })).toMatchObject({ bodyType: "text", body: "{oops" });
    const error = await failure({ url: `${base}/not-json`, responseType: "json" });
    expect(error).toMatchObject({ code: "response_not_json", retryable: false });
    expect(error.message).toContain("is not JSON: {oops");
    expect(await call({ url: `${base}/gzip` })).toMatchObject({ bodyType: "json", body: { zipped: true } });
  });

  it("reports bad input with the field paths", async () => {
    const error = await callTool(
      tool(),
      {
        url: "ftp://example.com/x",
        headers: { Host: "evil", "X-Ok": "line\nbreak" },
        auth: { secret: "a b" },
      },
      callContext(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInputError);
    const paths = (error as ToolInputError).issues.map((i) => i.path);
    expect(paths).toEqual(["url", "headers.Host", "headers.X-Ok", "auth.secret"]);
    expect((error as ToolInputError).retryable).toBe(false);
    expect((error as Error).message).toContain("url: must be an absolute http:// or https:// URL");
    const bodyOnGet = await callTool(
      tool(),
      { url: `${base}/json`, json: { a: 1 }, body: "x" },
      callContext(),
    ).catch((e: unknown) => e);
    const withPassword = await callTool(tool(), { url: "https://user:pw@example.com/" }, callContext()).catch(
      (e: unknown) => e,
    );
    expect((withPassword as ToolInputError).issues).toEqual([
      {
        path: "url",
        message: "must not carry a user name or password; pass credentials by secret name in `auth`",
      },
    ]);
    expect((bodyOnGet as ToolInputError).issues).toEqual([
      { path: "body", message: "give either json or body, not both" },
      { path: "method", message: "GET requests carry no body; use POST, PUT or PATCH" },
    ]);
  });

  it("reports a url that does not parse as a bad input, not as a crash of the check", async () => {
    for (const url of ["not a url", "https://"]) {
      const error = await callTool(tool(), { url }, callContext()).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(ToolInputError);
      expect((error as ToolInputError).issues, url).toEqual([
        { path: "url", message: "must be an absolute http:// or https:// URL" },
      ]);
    }
  });

  it("rejects a timeout or size limit above the configured one", async () => {
    const error = await callTool(
      tool({ timeoutMs: 1000 }),
      { url: `${base}/json`, timeoutMs: 60_000 },
      callContext(),
    ).catch((e: unknown) => e);
    expect((error as ToolInputError).issues).toEqual([
      { path: "timeoutMs", message: "may be at most 1000 (http.timeoutMs)" },
    ]);
  });
});

describe("http.request: refused addresses", () => {
  const refusedUrls: Array<[string, string]> = [
    ["http://127.0.0.1:9/", "loopback"],
    ["http://127.8.9.10/", "loopback"],
    ["http://10.0.0.1/", "private"],
    ["http://172.16.5.4/", "private"],
    ["http://172.31.255.255/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://100.64.0.1/", "shared"],
    ["http://169.254.1.1/", "link-local"],
    ["http://169.254.169.254/latest/meta-data/", "cloud metadata"],
    ["http://100.100.100.200/", "cloud metadata"],
    ["http://0.0.0.0/", "unspecified"],
    ["http://224.0.0.1/", "multicast"],
    ["http://[::1]/", "loopback"],
    ["http://[::]/", "unspecified"],
    ["http://[fd00:ec2::254]/", "cloud metadata"],
    ["http://[fc00::1]/", "unique-local"],
    ["http://[fd12:3456::1]/", "unique-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[ff02::1]/", "multicast"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://[::ffff:7f00:1]/", "loopback"],
    ["http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "cloud metadata"],
    ["http://[64:ff9b::a00:1]/", "private"],
    ["http://[2002:c0a8:101::1]/", "private"],
    ["http://[2001:db8::1]/", "documentation"],
    ["http://2130706433/", "loopback"],
    ["http://0x7f000001/", "loopback"],
    ["http://0177.0.0.1/", "loopback"],
    ["http://0x7f.1/", "loopback"],
    ["http://0xa9.0xfe.0xa9.0xfe/", "cloud metadata"],
    ["http://017700000001/", "loopback"],
  ];

  it.each(refusedUrls)("refuses %s (%s) without a request and without DNS", async (url, kind) => {
    const asked: string[] = [];
    const before = seen.length;
    const error = await failure({ url }, { allowHosts: [], resolve: tableResolver({}, asked) });
    expect(error).toMatchObject({ code: "egress_refused", retryable: false });
    expect(error.message).toContain(kind);
    expect(error.message).toContain("http.allowHosts");
    expect(asked).toEqual([]);
    expect(seen.length).toBe(before);
  });

  it("refuses cloud metadata host names before resolving them, trailing dot included", async () => {
    for (const url of [
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://METADATA.google.internal./",
      "http://metadata.goog/",
    ]) {
      const asked: string[] = [];
      const error = await failure(
        { url },
        { allowHosts: ["*.google.internal", "*.goog"], resolve: tableResolver({}, asked) },
      );
      expect(error.code).toBe("egress_refused");
      expect(error.message).toContain("cloud metadata service");
      expect(asked).toEqual([]);
    }
  });

  it("refuses a name that resolves to a private address, or to any private address among public ones", async () => {
    const resolve = tableResolver({
      "internal.example": ["10.1.2.3"],
      "mixed.example": ["93.184.216.34", "192.168.0.7"],
      "mapped.example": ["::ffff:169.254.169.254"],
    });
    const internal = await failure({ url: "http://internal.example/x" }, { allowHosts: [], resolve });
    expect(internal.message).toContain("internal.example resolves to 10.1.2.3, which is a private address");
    const mixed = await failure({ url: "https://mixed.example/" }, { allowHosts: [], resolve });
    expect(mixed.message).toContain("192.168.0.7");
    const mapped = await failure({ url: "http://mapped.example/" }, { allowHosts: [], resolve });
    expect(mapped.message).toContain("cloud metadata");
  });

  it("a wildcard entry lifts private addresses but never cloud metadata ones", async () => {
    const resolve = tableResolver({
      "svc.corp.example": ["127.0.0.1"],
      "meta.corp.example": ["169.254.169.254"],
    });
    const out = await call(
      { url: `http://svc.corp.example:${port}/json` },
      { allowHosts: ["*.corp.example"], resolve },
    );
    expect(out.status).toBe(200);
    const error = await failure(
      { url: "http://meta.corp.example/" },
      { allowHosts: ["*.corp.example"], resolve },
    );
    expect(error.message).toContain("cloud metadata");
  });

  it("reports unknown hosts as a non-retryable DNS error", async () => {
    const error = await failure({ url: "http://nowhere.example/" }, { allowHosts: [] });
    expect(error).toMatchObject({ code: "dns_error", retryable: false });
    expect(error.message).toContain("could not resolve nowhere.example (ENOTFOUND)");
  });
});

describe("http.request: DNS is resolved once and the connection pinned to the checked address", () => {
  it("connects to the resolved address with the Host header kept, asking the resolver once", async () => {
    // `api.example` exists in no DNS but the test's resolver: reaching the loopback server proves the
    // socket went to the address that was checked, not to a second lookup.
    const asked: string[] = [];
    const resolve = tableResolver({ "api.example": ["127.0.0.1"] }, asked);
    const out = await call(
      { url: `http://api.example:${port}/echo` },
      { allowHosts: ["api.example"], resolve },
    );
    expect(out.status).toBe(200);
    expect((out.body as { headers: Record<string, string> }).headers.host).toBe(`api.example:${port}`);
    expect(asked).toEqual(["api.example"]);
  });

  it("a host that is not allow-listed cannot be rebound to loopback", async () => {
    let answers = 0;
    const rebinding: HostResolver = async () => {
      answers += 1;
      return [{ address: "127.0.0.1", family: 4 }];
    };
    const before = seen.length;
    const error = await failure(
      { url: `http://rebind.example:${port}/json` },
      { allowHosts: [], resolve: rebinding },
    );
    expect(error.message).toContain("rebind.example resolves to 127.0.0.1, which is a loopback address");
    expect(answers).toBe(1);
    expect(seen.length).toBe(before);
  });
});

describe("http.request over TLS to a pinned address", () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
  const cert = fixture("api.example.cert.pem");

  it("sends the host name as SNI and Host and verifies the certificate against it", async () => {
    const names: Array<string | false | null> = [];
    const server = createTlsServer({ cert, key: fixture("api.example.key.pem") }, (req, res) => {
      names.push((req.socket as TLSSocket).servername);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ host: req.headers.host }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const tlsPort = (server.address() as AddressInfo).port;
    try {
      const resolve = tableResolver({ "api.example": ["127.0.0.1"] });
      const options = { allowHosts: ["api.example"], resolve, ca: cert };
      const out = await call({ url: `https://api.example:${tlsPort}/` }, options);
      expect(out.body).toEqual({ host: `api.example:${tlsPort}` });
      expect(names).toEqual(["api.example"]);
      // Without the CA the self-signed certificate is refused: verification is on.
      const untrusted = await failure(
        { url: `https://api.example:${tlsPort}/` },
        { allowHosts: ["api.example"], resolve },
      );
      expect(untrusted.code).toBe("network_error");
      expect(untrusted.message).toMatch(/self[- ]signed/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("http.request: redirects", () => {
  it("follows redirects, listing them, and re-checks every hop", async () => {
    const out = await call({ url: `${base}/chain?n=2` });
    expect(out.status).toBe(200);
    expect(out.redirects).toEqual([`${base}/chain?n=1`, `${base}/chain?n=0`, `${base}/json`]);
    expect(out.url).toBe(`${base}/json`);
    const error = await failure({
      url: `${base}/redirect?to=${encodeURIComponent("http://169.254.169.254/latest/meta-data/iam")}`,
    });
    expect(error.code).toBe("egress_refused");
    expect(error.message).toContain("cloud metadata");
  });

  it("stops after five redirects and refuses non-HTTP locations", async () => {
    expect(await call({ url: `${base}/chain?n=4` })).toMatchObject({ status: 200 });
    const error = await failure({ url: `${base}/chain?n=5` });
    expect(error).toMatchObject({ code: "too_many_redirects", retryable: false });
    const file = await failure({ url: `${base}/redirect?to=${encodeURIComponent("file:///etc/passwd")}` });
    expect(file).toMatchObject({ code: "bad_redirect" });
  });

  it("turns a POST into a GET without body on 303, and returns the redirect itself when asked not to follow", async () => {
    const out = await call({ url: `${base}/redirect?status=303&to=/echo`, method: "POST", json: { a: 1 } });
    expect(out.body).toMatchObject({ method: "GET", body: "" });
    expect((out.body as { headers: Record<string, string> }).headers["content-type"]).toBeUndefined();
    const kept = await call({ url: `${base}/redirect?status=307&to=/echo`, method: "POST", json: { a: 1 } });
    expect(kept.body).toMatchObject({ method: "POST", body: '{"a":1}' });
    const raw = await call({ url: `${base}/redirect?to=/json`, followRedirects: false });
    expect(raw).toMatchObject({ status: 302, headers: { location: "/json" }, redirects: [] });
  });

  it("drops credentials when a redirect leaves the origin", async () => {
    const before = otherSeen.length;
    const out = await call({
      url: `${base}/redirect?to=${encodeURIComponent(`${otherBase}/echo`)}`,
      auth: { secret: "api-token" },
      headers: { "x-api-key": "secret:api-key", "x-plain": "kept" },
    });
    expect(out.status).toBe(200);
    const arrived = otherSeen.slice(before)[0]!;
    expect(arrived.headers.authorization).toBeUndefined();
    expect(arrived.headers["x-api-key"]).toBeUndefined();
    expect(arrived.headers["x-plain"]).toBe("kept");
  });
});

describe("http.request: secrets", () => {
  it("sends secrets named in auth and headers, and never returns or logs their values", async () => {
    const logger = recordingLogger();
    const before = seen.length;
    const out = await call(
      { url: `${base}/echo`, auth: { secret: "api-token" }, headers: { "X-Api-Key": "secret:api-key" } },
      {},
      logger,
    );
    const arrived = seen.slice(before)[0]!;
    expect(arrived.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(arrived.headers["x-api-key"]).toBe(API_KEY);
    const text = JSON.stringify(out);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain("s3cr3t");
    expect((out.body as { headers: Record<string, string> }).headers.authorization).toBe("Bearer [redacted]");
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(logger.lines)).not.toContain(API_KEY);
  });

  it("masks secrets echoed in response headers and binary bodies", async () => {
    const header = await call({ url: `${base}/echo-header`, headers: { "x-api-key": "secret:api-key" } });
    expect(header.headers["x-echo"]).toBe("[redacted]");
    const binary = await call({ url: `${base}/binary-echo`, auth: { secret: "api-token", scheme: "Token" } });
    expect(binary.bodyType).toBe("base64");
    const decoded = Buffer.from(binary.body as string, "base64").toString();
    expect(decoded).toContain("Token [redacted]");
    expect(decoded).not.toContain("s3cr3t");
  });

  it("fails without a request when a secret is not configured, saying where to set it", async () => {
    const before = seen.length;
    const error = await failure({ url: `${base}/echo`, auth: { secret: "missing-one" } });
    expect(error).toMatchObject({ code: "secret_missing", retryable: false });
    expect(error.message).toBe('secret "missing-one" is not configured: set test secret missing-one');
    expect(seen.length).toBe(before);
  });
});

describe("http.request: limits", () => {
  it("fails a response over the size cap, compressed bombs included", async () => {
    const big = await failure({ url: `${base}/big`, maxResponseBytes: 10_000 });
    expect(big).toMatchObject({ code: "response_too_large", retryable: false });
    expect(big.message).toContain("10000-byte limit");
    const bomb = await failure({ url: `${base}/gzip-bomb` });
    expect(bomb.code).toBe("response_too_large");
  });

  it("fails a response body that stalls past the time limit", async () => {
    const error = await failure({ url: `${base}/stall`, timeoutMs: 200 });
    expect(error).toMatchObject({ code: "timeout", retryable: true });
  });

  it("fails a call over its time limit with a retryable timeout", async () => {
    const error = await failure({ url: `${base}/slow`, timeoutMs: 200 });
    expect(error).toMatchObject({ code: "timeout", retryable: true });
    expect(error.message).toBe(`http.request to http://127.0.0.1:${port} took longer than 200 ms`);
  });

  it("reports a refused connection as a retryable network error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure({ url: `http://127.0.0.1:${freePort}/` });
    expect(error).toMatchObject({ code: "network_error", retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
  });
});
