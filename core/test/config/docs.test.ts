import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLE_CONFIG_YAML } from "../../src/config/docs.js";
import { configFields, loadConfig, renderConfigDocs } from "../../src/config/index.js";
import { listSettings } from "../../src/config/introspect.js";

const DOCS = new URL("../../../docs/configuration.md", import.meta.url);

describe("docs/configuration.md", () => {
  it("is what the generator writes now", () => {
    const committed = readFileSync(DOCS, "utf8");
    expect(committed === renderConfigDocs(), "docs/configuration.md is stale: run npm run docs:config").toBe(
      true,
    );
  });

  it("documents every setting with a description and a unique AAT_ variable", () => {
    const settings = listSettings(configFields);
    const docs = renderConfigDocs();
    const names = settings.map(({ meta }) => meta.env);
    expect(names.every((name) => name?.startsWith("AAT_"))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    for (const { path, meta } of settings) {
      expect(meta.description.length, path.join(".")).toBeGreaterThan(10);
      expect(docs).toContain(`| \`${path.join(".")}\` | \`${meta.env}\``);
    }
    expect(settings.length).toBeGreaterThan(50);
  });

  it("shows an example config file that loads cleanly", () => {
    const path = join(mkdtempSync(join(tmpdir(), "aat-config-")), "aat.yaml");
    writeFileSync(path, EXAMPLE_CONFIG_YAML);
    const { config, warnings } = loadConfig({ env: {}, file: path });
    expect(warnings).toEqual([]);
    expect(config.queue.kind).toBe("nats");
    expect(config.models.default).toBe("fast");
    expect(config.features).toEqual({ chat_streaming: true });
    expect(renderConfigDocs()).toContain(EXAMPLE_CONFIG_YAML);
  });
});
