import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * What the Functions host receives when it imports each entry: @azure/functions registers through the
 * worker's `@azure/functions-core` (outside the host it runs in test mode and registers nothing), so each
 * entry is imported in a child node with the stand-in for that API (src/testing/worker-core.cjs, which
 * the cold-start bench preloads too) and the registrations are compared with what functions.ts means.
 */
const require = createRequire(import.meta.url);
const workerCore = require.resolve("@aat/functions-azure/testing/worker-core");
const fixture = fileURLToPath(new URL("./fixtures/register-in-host.ts", import.meta.url));
const entry = (file: string) => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

interface Binding {
  type: string;
  direction: string;
  [key: string]: unknown;
}
interface Registered {
  programmingModel?: string;
  functions: Record<
    string,
    {
      callback: string;
      metadata: {
        name: string;
        functionId: string;
        bindings: Record<string, Binding>;
        rawBindings: string[];
      };
    }
  >;
}

function registerInHost(file: string): Registered {
  const child = spawnSync(
    process.execPath,
    ["--require", workerCore, "--import", "tsx", fixture, entry(file)],
    {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" },
    },
  );
  expect(child.stderr).not.toMatch(/test mode/);
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as Registered;
}

/** A function's bindings without their generated names (`httpTrigger1a2b…`), by direction and type. */
function bindingsOf(registered: Registered, id: string) {
  const fn = registered.functions[id]!;
  expect(fn.metadata.name).toBe(id);
  expect(fn.callback).toBe("function");
  expect(fn.metadata.rawBindings).toHaveLength(Object.keys(fn.metadata.bindings).length);
  return Object.values(fn.metadata.bindings).map(({ name: _name, ...binding }) => binding);
}

const API = {
  type: "httpTrigger",
  direction: "in",
  methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
  authLevel: "anonymous",
  route: "{*path}",
  properties: { supportsDeferredBinding: "false" },
};
const API_RETURN = { type: "http", direction: "out" };
const STEPS = {
  type: "serviceBusTrigger",
  direction: "in",
  connection: "AAT_SERVICEBUS_CONNECTION_STRING",
  queueName: "%AAT_SERVICEBUS_QUEUE%",
  properties: { supportsDeferredBinding: "false" },
};
const SCHEDULES = {
  type: "timerTrigger",
  direction: "in",
  schedule: "%AAT_AZURE_TIMER_SCHEDULE%",
  properties: { supportsDeferredBinding: "false" },
};

// Each test starts a node with tsx (~2 s here): more than the default 20 s can pass on a loaded machine.
describe("registration in the Functions host (worker core API stand-in)", { timeout: 60_000 }, () => {
  it("the app entry registers api, steps and schedules with their triggers", () => {
    const registered = registerInHost("entry.ts");
    expect(registered.programmingModel).toBe("@azure/functions");
    expect(Object.keys(registered.functions).sort()).toEqual(["api", "schedules", "steps"]);
    expect(bindingsOf(registered, "api")).toEqual([API, API_RETURN]);
    expect(bindingsOf(registered, "steps")).toEqual([STEPS]);
    expect(bindingsOf(registered, "schedules")).toEqual([SCHEDULES]);
  });

  it.each([
    ["entries/api.ts", "api", [API, API_RETURN]],
    ["entries/steps.ts", "steps", [STEPS]],
    ["entries/schedules.ts", "schedules", [SCHEDULES]],
  ] as const)("%s registers only %s, with the same bindings", (file, id, bindings) => {
    const registered = registerInHost(file);
    expect(Object.keys(registered.functions)).toEqual([id]);
    expect(bindingsOf(registered, id)).toEqual(bindings);
  });
});
