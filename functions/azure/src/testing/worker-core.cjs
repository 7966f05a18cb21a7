// A stand-in for `@azure/functions-core`, the API the Azure Functions host's Node worker
// (github.com/Azure/azure-functions-nodejs-worker; paths below are in that repository) gives the function
// app, which @azure/functions (v4) requires; outside the host the library runs in its test mode instead
// (it registers nothing and warns). Required before the app (`node --require`), it makes the library
// register the functions as in the host, where tests and the cold-start bench can read them:
// globalThis[Symbol.for("aat.azureWorkerCore")] is { functions: { [id]: { metadata, callback } },
// programmingModel, hooks }.
//
// src/setupCoreModule.ts (the version with `log: coreApiLog`) lines 19-32 build
//   { version, hostVersion, registerHook, setProgrammingModel, getProgrammingModel, log,
//     registerFunction, Disposable }
// and lines 34-42 serve it by wrapping Module.prototype.require in a Proxy that answers that one
// specifier; src/Worker.ts (8c79f0b) line 49 calls it before the app's entry is imported. This file has
// the same members (the library calls log, registerFunction, registerHook and setProgrammingModel:
// node_modules/@azure/functions/src) and the same Proxy. Its registerFunction does what
// src/coreApi/registerFunction.ts (6907154) lines 18-40 do with the library's metadata, short of the
// protobuf conversion (fromCoreFunctionMetadata): refuses a second function with the same id, makes
// `rawBindings` (one JSON string per binding, what the host reads), sets scriptFile and directory from
// the entry (here: process.argv[2], the file node runs), keeps { metadata, callback } by id. Its log
// drops the line (the worker sends it to the host over gRPC).
"use strict";

const Module = require("node:module");
const path = require("node:path");

class Disposable {
  static from(...inputs) {
    return new Disposable(() => {
      for (const input of inputs) input.dispose();
    });
  }
  #callOnDispose;
  constructor(callOnDispose) {
    this.#callOnDispose = callOnDispose;
  }
  dispose() {
    this.#callOnDispose?.();
    this.#callOnDispose = undefined;
  }
}

/** What the worker keeps of the app (src/WorkerContext.ts `worker.app`). */
const app = { functions: {}, programmingModel: undefined, hooks: {} };

const coreApi = {
  // Neither is read by @azure/functions 4.x; the worker's version as its package.json gives it.
  version: "3.11.0",
  hostVersion: undefined,
  registerHook(hookName, callback) {
    app.hooks[hookName] = [...(app.hooks[hookName] ?? []), callback];
    return new Disposable(() => {
      app.hooks[hookName] = app.hooks[hookName].filter((one) => one !== callback);
    });
  },
  setProgrammingModel(programmingModel) {
    app.programmingModel = programmingModel;
  },
  getProgrammingModel() {
    return app.programmingModel;
  },
  log() {},
  registerFunction(metadata, callback) {
    const functionId = metadata.functionId || metadata.name;
    if (functionId in app.functions)
      throw new Error(`A function with id "${functionId}" has already been registered.`);
    const rpcMetadata = {
      ...metadata,
      functionId,
      rawBindings: Object.entries(metadata.bindings).map(([name, binding]) =>
        JSON.stringify({ ...binding, name }),
      ),
      // The worker takes them from worker.app.currentEntryPoint, the entry it is importing.
      ...(process.argv[2]
        ? { scriptFile: path.basename(process.argv[2]), directory: path.dirname(process.argv[2]) }
        : { scriptFile: "unknown" }),
    };
    app.functions[functionId] = { metadata: rpcMetadata, callback };
    return new Disposable(() => {
      delete app.functions[functionId];
    });
  },
  Disposable,
};

Module.prototype.require = new Proxy(Module.prototype.require, {
  apply(target, thisArg, argArray) {
    return argArray[0] === "@azure/functions-core" ? coreApi : Reflect.apply(target, thisArg, argArray);
  },
});

globalThis[Symbol.for("aat.azureWorkerCore")] = app;
