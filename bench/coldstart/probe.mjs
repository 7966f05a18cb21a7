// Runs in a fresh `node` process: imports one handler bundle, invokes it once, prints the timings as
// JSON. performance.now() counts from the process's start, so `boot` is node's own start-up.
const [bundle, eventJson] = process.argv.slice(2);
const boot = performance.now();
const { handler } = await import(bundle);
const imported = performance.now();
const context = {
  awsRequestId: "coldstart",
  functionName: "coldstart",
  getRemainingTimeInMillis: () => 60_000,
  callbackWaitsForEmptyEventLoop: true,
};
const result = await handler(JSON.parse(eventJson), context);
const invoked = performance.now();
process.stdout.write(
  `${JSON.stringify({ boot, importMs: imported - boot, firstInvokeMs: invoked - imported, result: JSON.stringify(result).slice(0, 200) })}\n`,
);
process.exit(0);
