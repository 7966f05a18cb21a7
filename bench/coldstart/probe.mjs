// Runs in a fresh `node` process: imports one handler bundle, optionally invokes it once, prints the
// timings as JSON. performance.now() counts from the process's start, so `boot` is node's own start-up.
// argv: bundle, event JSON (or "-" to only import), preload JSON (modules the host has loaded before
// it loads the function, e.g. the Functions Framework; imported before the clock starts), invoker:
// "lambda" (the bundle exports `handler(event, context)`) or "ff-http:<name>" (a Functions Framework http
// function the bundle registered; the event is { method, path }).
const boot = performance.now();
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const bootCpu = cpu();
const [bundle, eventJson, preloadJson, invoker = "lambda"] = process.argv.slice(2);
for (const name of JSON.parse(preloadJson ?? "[]")) await import(name);
const start = performance.now();
const startCpu = cpu();
const { handler } = await import(bundle);
const ffName = invoker.startsWith("ff-http:") ? invoker.slice("ff-http:".length) : undefined;
const imported = performance.now();
const importedCpu = cpu();
let result = "(not invoked)";
let invoked = imported;
let invokedCpu = importedCpu;
if (eventJson !== "-") {
  const context = {
    awsRequestId: "coldstart",
    functionName: "coldstart",
    getRemainingTimeInMillis: () => 60_000,
    callbackWaitsForEmptyEventLoop: true,
  };
  result = ffName
    ? await invokeHttpFunction(ffName, JSON.parse(eventJson))
    : JSON.stringify(await handler(JSON.parse(eventJson), context)).slice(0, 200);
  invoked = performance.now();
  invokedCpu = cpu();
}
process.stdout.write(
  `${JSON.stringify({ boot, bootCpu, importMs: imported - start, firstInvokeMs: invoked - imported, importCpuMs: importedCpu - startCpu, firstInvokeCpuMs: invokedCpu - importedCpu, result })}\n`,
);
process.exit(0);

/** Calls a registered Functions Framework http function with a minimal Express-like request and response. */
async function invokeHttpFunction(name, { method, path }) {
  const { getFunction } = await import("@google-cloud/functions-framework/testing");
  const fn = getFunction(name);
  if (!fn) throw new Error(`no http function ${name} registered`);
  return await new Promise((resolve, reject) => {
    let status = 200;
    const res = {
      status(code) {
        status = code;
        return res;
      },
      append() {
        return res;
      },
      end(body) {
        resolve(JSON.stringify({ status, body: String(body ?? "").slice(0, 150) }));
      },
    };
    const req = { method, url: path, originalUrl: path, protocol: "http", headers: { host: "coldstart" } };
    Promise.resolve(fn(req, res)).catch(reject);
  });
}
