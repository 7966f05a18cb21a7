// The Azure rows' preload (bench/coldstart/index.ts): what the Azure Functions host's Node worker
// (github.com/Azure/azure-functions-nodejs-worker; paths below are in that repository) has done in its
// process before it imports the function app's entry. probe.mjs runs it before the clock starts, as it
// imports the Functions Framework for the GCP rows.
//
// 1. Node built-ins. src/nodejsWorker.ts (commit 845aa38) line 52 requires the worker's webpack bundle
//    (`workerModule = require('./worker-bundle.js')`; webpack.config.js bundles ./dist/src/Worker.js with
//    only @azure/functions-core external) and line 59 starts it (`workerModule.startNodeWorker(process.argv)`).
//    src/Worker.ts (8c79f0b) line 6 imports src/GrpcClient.ts, whose line 4 (b20ad36) is
//    `import * as grpc from '@grpc/grpc-js'` (package.json, worker 3.11.0, line 9: "@grpc/grpc-js":
//    "^1.8.22"); startNodeWorker then opens the gRPC event stream to the host (Worker.ts line 39,
//    CreateGrpcEventStream) and installs the core API (line 49, setupCoreModule()). The app's entry is
//    imported only afterwards, when the host's workerInitRequest (or functionEnvironmentReloadRequest)
//    arrives on that stream: src/startApp.ts startApp → loadEntryPointFile → src/loadScriptFile.ts
//    (080325a) line 59 `script = await eval('import(fileUrl.href)')`. So every built-in @grpc/grpc-js
//    loads at import is loaded before our entry. The list below is what `require('@grpc/grpc-js')`
//    (1.14.7, the copy in node_modules here) adds to process.moduleLoadList under Node 22.23, public
//    modules only (their internal ones come with them); after this file grpc-js loads no built-in more.
//    It is a subset of the worker's state: the worker's own code, grpc-js itself and its HTTP/2
//    connection are not reproduced.
// 2. `@azure/functions-core`, the worker's API that @azure/functions (v4, bundled into our entry; that
//    module stays external, functions/azure/src/bundle.ts) requires: the worker installs it (src/Worker.ts
//    line 49, setupCoreModule()) before it imports the app. @aat/functions-azure/testing/worker-core is
//    the stand-in for it (same members, same Module.prototype.require Proxy; the worker's source it
//    follows is quoted there); here probe.mjs's argv[2], the bundle, is the entry it names.
// With it @azure/functions runs as in the host instead of in its test mode: setProgrammingModel(new
// ProgrammingModel()) and registerFunction(toCoreFunctionMetadata(name, options), handler) for each
// app.http / app.serviceBusQueue / app.timer, inside the clock (the test mode skipped both and printed
// two warnings). Our own code runs exactly as without it.
"use strict";

for (const name of [
  "node:assert",
  "node:crypto",
  "node:dns",
  "node:http",
  "node:http2",
  "node:net",
  "node:os",
  "node:process",
  "node:stream",
  "node:stream/promises",
  "node:string_decoder",
  "node:tls",
  "node:zlib",
]) {
  require(name);
}

require("@aat/functions-azure/testing/worker-core");
