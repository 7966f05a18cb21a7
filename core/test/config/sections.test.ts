import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { listSettings } from "../../src/config/introspect.js";
import { configFields } from "../../src/config/schema.js";
import { configSections, useConfigSectionTable } from "../../src/config/section.js";
import { configSectionTable } from "../../src/config/section-table.js";

// Sections built on first use (section.ts): with the build's section table a configuration loads to the
// same result, warnings and problems as without it, for every setting and every kind of value.

afterEach(() => useConfigSectionTable(undefined));

type Outcome =
  | { config: unknown; warnings: readonly string[] }
  | { problems: unknown; warnings: readonly string[] };

function outcome(env: Record<string, string>, file: string | undefined): Outcome {
  try {
    const { config, warnings } = loadConfig({ env, cwd: "/srv/aat", ...(file ? { file } : {}) });
    return { config, warnings };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problems: error.problems, warnings: error.warnings };
  }
}

const dir = mkdtempSync(join(tmpdir(), "aat-sections-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function fileOf(values: Record<string, unknown>): string {
  const path = join(dir, `config-${files++}.json`);
  writeFileSync(path, JSON.stringify(values));
  return path;
}

function bothWays(env: Record<string, string>, values?: Record<string, unknown>) {
  const file = values ? fileOf(values) : undefined;
  useConfigSectionTable(undefined);
  const plain = outcome(env, file);
  useConfigSectionTable(table);
  const tabled = outcome(env, file);
  useConfigSectionTable(undefined);
  return { plain, tabled };
}

const table = configSectionTable();
const RAW_VALUES = ["", " ", "0", "1", "-5", "2.5", "70000", "true", "false", "yes", "abc", "Bad Name"];
const RAW_URLS = [
  "http://127.0.0.1:9",
  "https://x.example/p",
  "redis://h:6379",
  "amqp://u:p@h",
  "nats://h",
  "ftp://x",
];
const RAW_JSON = ["[]", '["a","b"]', "{}", '{"a":{"provider":"openai","model":"m"}}', "[1]", "{", "null"];

describe("config sections built on first use", () => {
  it("are named by their path in the configuration", () => {
    const found: string[] = [];
    const visit = (schema: unknown, path: string[]) => {
      const name = [...configSections].find(([, section]) => section === schema)?.[0];
      if (name !== undefined) {
        expect(name).toBe(path.join("."));
        found.push(name);
      }
      const def = (schema as { _zod: { def: { innerType?: unknown; shape?: Record<string, unknown> } } })._zod
        .def;
      if (def.innerType) visit(def.innerType, path);
      for (const [key, child] of Object.entries(def.shape ?? {})) visit(child, [...path, key]);
    };
    visit(configFields, []);
    expect(found.sort()).toEqual([...configSections.keys()].sort());
  });

  it("list the same settings from the table, in the same order", () => {
    const plain = listSettings(configFields).map(({ path, meta, schema }) => ({ path, meta, schema }));
    useConfigSectionTable(table);
    const tabled = listSettings(configFields).map(({ path, meta, schema }) => ({ path, meta, schema }));
    expect(tabled).toEqual(plain);
  });

  it("load nothing set to the same defaults", () => {
    const { plain, tabled } = bothWays({});
    expect(tabled).toStrictEqual(plain);
    expect("config" in plain).toBe(true);
  });

  it("load every setting's variable, valid or not, to the same result", () => {
    let compared = 0;
    for (const { meta } of listSettings(configFields)) {
      if (!meta.env) continue;
      const variable = meta.env.replace(/<[A-Z]+>/g, "PRIMARY");
      for (const raw of [...RAW_VALUES, ...RAW_URLS, ...RAW_JSON]) {
        const { plain, tabled } = bothWays({ [variable]: raw });
        expect(tabled, `${variable}=${raw}`).toStrictEqual(plain);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(3000);
  });

  it("load cross-setting rules, misspelt variables and a backend's settings to the same result", () => {
    const cases: Record<string, string>[] = [
      { AAT_QUEUE_KIND: "nats" },
      {
        AAT_QUEUE_KIND: "sqs",
        AAT_SQS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/1/q",
        AAT_KV_KIND: "dynamodb",
      },
      { AAT_KV_KIND: "dynamodb", AAT_DYNAMODB_TABLE: "t", AAT_DYNAMODB_TRANSPORT: "rest" },
      { AAT_KV_KIND: "upstash" },
      { AAT_AUTH_MODE: "oidc" },
      { AAT_AUTH_MODE: "none" },
      { AAT_MODELS_DEFAULT: "missing" },
      { AAT_NATS_SERVER: "nats://h" },
      { AAT_MODEL_FAST_MODEL: "m", AAT_MODEL_FAST_PROVIDER: "openai" },
      { AAT_FEATURE_NEW_UI: "true", AAT_SECRET_FALCO_HOOK: "s3cret-value" },
      { AAT_MCP_SERVERS_JSON: '{"fs":{"command":"npx"}}', AAT_CODING_ENABLED: "false" },
    ];
    for (const env of cases) {
      const { plain, tabled } = bothWays(env);
      expect(tabled, JSON.stringify(env)).toStrictEqual(plain);
    }
  });

  it("load a config file's sections, partial, unknown keys and wrong types included, to the same result", () => {
    const cases: Record<string, unknown>[] = [
      { queue: { kind: "nats", nats: { servers: ["nats://h"] } } },
      { queue: { nats: { servrs: ["x"] } } },
      { queue: "sqs" },
      { kv: { redis: {} }, telemetry: { metrics: { enabled: true } } },
      { mcp: { endpoint: { enabled: false } }, actions: { smtp: { host: "mail" } } },
      { threatintel: { otx: { apiKey: 5 } }, coding: { git: { enabled: "no" } } },
      { server: { port: 99999 }, limits: {} },
      { unknown: true },
    ];
    for (const file of cases) {
      const { plain, tabled } = bothWays({}, file);
      expect(tabled, JSON.stringify(file)).toStrictEqual(plain);
    }
  });
});
