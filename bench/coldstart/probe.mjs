// Runs in a fresh `node` process: imports one handler bundle, invokes it once, prints the timings as
// JSON. performance.now() counts from the process's start, so `boot` is node's own start-up.
const [bundle, eventJson] = process.argv.slice(2);
const boot = performance.now();
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const bootCpu = cpu();
const { handler } = await import(bundle);
const imported = performance.now();
const importedCpu = cpu();
const context = {
  awsRequestId: "coldstart",
  functionName: "coldstart",
  getRemainingTimeInMillis: () => 60_000,
  callbackWaitsForEmptyEventLoop: true,
};
const result = await handler(JSON.parse(eventJson), context);
const invoked = performance.now();
const invokedCpu = cpu();
process.stdout.write(
  `${JSON.stringify({ boot, importMs: imported - boot, firstInvokeMs: invoked - imported, importCpuMs: importedCpu - bootCpu, firstInvokeCpuMs: invokedCpu - importedCpu, result: JSON.stringify(result).slice(0, 200) })}\n`,
);
process.exit(0);
