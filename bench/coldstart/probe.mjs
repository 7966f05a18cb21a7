// Runs in a fresh `node` process: imports one handler bundle, optionally invokes it once, prints the
// timings as JSON. performance.now() counts from the process's start, so `boot` is node's own start-up.
// argv: bundle, event JSON (or "-" to only import), preload JSON (modules the host has loaded before
// it loads the function, e.g. the Functions Framework; imported before the clock starts).
const boot = performance.now();
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const bootCpu = cpu();
const [bundle, eventJson, preloadJson] = process.argv.slice(2);
for (const name of JSON.parse(preloadJson ?? "[]")) await import(name);
const start = performance.now();
const startCpu = cpu();
const { handler } = await import(bundle);
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
  result = JSON.stringify(await handler(JSON.parse(eventJson), context)).slice(0, 200);
  invoked = performance.now();
  invokedCpu = cpu();
}
process.stdout.write(
  `${JSON.stringify({ boot, bootCpu, importMs: imported - start, firstInvokeMs: invoked - imported, importCpuMs: importedCpu - startCpu, firstInvokeCpuMs: invokedCpu - importedCpu, result })}\n`,
);
process.exit(0);
