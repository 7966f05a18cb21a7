import { MemoryKeyValue } from "@aat/adapter-memory";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { registerBuiltinTools } from "../../src/tools/builtin/index.js";
import { onFirstUse } from "../../src/tools/first-use.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import type { Tool } from "../../src/tools/types.js";

describe("built-in tools build their schemas on first use", () => {
  it("onFirstUse builds once, on the first call, and shares the value", () => {
    let builds = 0;
    const value = onFirstUse(() => ({ built: ++builds }));
    expect(builds).toBe(0);
    expect(value()).toBe(value());
    expect(builds).toBe(1);
  });

  it("registering does not read a schema behind a getter; a plain object without a schema is still refused", () => {
    let reads = 0;
    const lazy = {
      name: "lazy.tool",
      description: "a tool whose schema is built on first use",
      get input(): Tool["input"] {
        reads++;
        throw new Error("not to be built at registration");
      },
      run: async () => null,
    } as Tool;
    const registry = new ToolRegistry([lazy]);
    expect(registry.has("lazy.tool")).toBe(true);
    expect(reads).toBe(0);
    expect(() =>
      registry.register({ name: "plain.tool", description: "", run: async () => null } as never),
    ).toThrow(/needs a zod `input` schema/);
  });

  it("every built-in tool answers with zod schemas when asked, the same objects each time", () => {
    const { config } = loadConfig({ env: {} });
    const registry = new ToolRegistry();
    registerBuiltinTools(registry, {
      http: { allowHosts: [], maxResponseBytes: 1024, timeoutMs: 1_000 },
      notes: { kv: new MemoryKeyValue() },
      startRun: async () => ({ runId: "r", state: { status: "running" } }),
      alerts: {
        threatintel: config.threatintel,
        actions: config.actions,
        allowHosts: [],
        kv: new MemoryKeyValue(),
        actionTimeoutMs: 1_000,
      },
    });
    const tools = registry.list();
    expect(tools.length).toBeGreaterThan(10);
    for (const tool of tools) {
      expect(typeof tool.input.safeParse, tool.name).toBe("function");
      expect(tool.input, tool.name).toBe(tool.input);
      if (tool.output) expect(tool.output, tool.name).toBe(tool.output);
    }
    expect(registry.get("threatintel.ip")!.input.safeParse({ ip: "10.0.0.1" }).success).toBe(true);
    expect(registry.get("threatintel.ip")!.input.safeParse({ ip: "not an ip" }).success).toBe(false);
  });
});
