import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  type LoadConfigOptions,
  loadConfig,
  loadConfigOnDemand,
} from "../../src/config/index.js";

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "aat-config-")), name);
  writeFileSync(path, content);
  return path;
}

/** What loadConfig returns or the message it throws, to compare with loadConfigOnDemand's. */
async function bothWays(options: LoadConfigOptions) {
  const outcome = async (load: () => unknown) => {
    try {
      return { ok: await load() };
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return { error: (error as ConfigError).message };
    }
  };
  return {
    sync: await outcome(() => loadConfig(options)),
    onDemand: await outcome(() => loadConfigOnDemand(options)),
  };
}

describe("loadConfigOnDemand (the config file's reader loaded only when a file is named)", () => {
  it("reads the environment alone as loadConfig does", async () => {
    const { sync, onDemand } = await bothWays({ env: { AAT_SERVER_PORT: "8123" }, cwd: "/srv/aat" });
    expect(onDemand).toEqual(sync);
    expect((sync.ok as { config: { server: { port: number } } }).config.server.port).toBe(8123);
  });

  it("reads a YAML file named by AAT_CONFIG or by the option, under the environment, as loadConfig does", async () => {
    const file = tempFile("aat.yaml", "server:\n  port: 9000\nhttp:\n  timeoutMs: 1234\n");
    for (const options of [
      { env: { AAT_CONFIG: file, AAT_SERVER_PORT: "9001" } },
      { env: { AAT_SERVER_PORT: "9001" }, file },
    ]) {
      const { sync, onDemand } = await bothWays(options);
      expect(onDemand).toEqual(sync);
      const { config } = sync.ok as { config: { server: { port: number }; http: { timeoutMs: number } } };
      expect([config.server.port, config.http.timeoutMs]).toEqual([9001, 1234]);
    }
  });

  it("reports the same problems: a missing file, a file that is not YAML, a bad value", async () => {
    const broken = tempFile("broken.yaml", "server: [1, 2\n");
    for (const options of [
      { env: { AAT_CONFIG: "/nonexistent/aat.yaml" } },
      { env: {}, file: broken },
      { env: { AAT_SERVER_PORT: "80a" } },
    ]) {
      const { sync, onDemand } = await bothWays(options);
      expect(sync.error).toBeDefined();
      expect(onDemand).toEqual(sync);
    }
  });
});
