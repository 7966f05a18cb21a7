import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AatConfig, loadConfig } from "../../src/config/index.js";

const CWD = "/srv/aat";

function load(env: Record<string, string>, options: { file?: string; cwd?: string } = {}) {
  return loadConfig({ env, cwd: options.cwd ?? CWD, ...(options.file ? { file: options.file } : {}) });
}

function tempFile(name: string, content: string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "aat-config-"));
  const path = join(dir, name);
  writeFileSync(path, content);
  return { dir, path };
}

describe("loadConfig defaults", () => {
  it("needs no configuration at all", () => {
    const { config, warnings, file } = load({});
    expect(warnings).toEqual([]);
    expect(file).toBeUndefined();
    expect(config).toEqual({
      server: {
        host: "127.0.0.1",
        port: 8080,
        bodyLimitBytes: 1_048_576,
        corsOrigins: [],
        role: "all",
        shutdownGraceMs: 10_000,
      },
      dataDir: "/srv/aat/.aat",
      queue: {
        kind: "sqlite",
        nats: {
          tls: false,
          stream: "AAT",
          subjectPrefix: "aat",
          ackWaitMs: 30_000,
          maxDeliver: 5,
          duplicateWindowMs: 120_000,
        },
        rabbitmq: { queue: "aat-steps", prefetch: 16, visibilityTimeoutMs: 30_000, maxDeliveries: 5 },
        sqs: { fifo: false, transport: "auto", provision: true },
        pubsub: { topic: "aat-steps", subscription: "aat-steps-worker", provision: true },
        servicebus: { queue: "aat-steps" },
      },
      kv: {
        kind: "sqlite",
        redis: {
          keyPrefix: "aat",
          tls: false,
          commandTimeoutMs: 5_000,
          connectTimeoutMs: 5_000,
          maxRetriesPerRequest: 3,
        },
        upstash: {},
        dynamodb: { transport: "auto" },
      },
      models: { default: "default", providers: { default: { provider: "offline" } } },
      auth: { mode: "apiKey", allowNone: false, allowUnsignedWebhooks: false, oidc: {} },
      plans: { directories: ["/srv/aat/plans"], watch: true },
      limits: {
        maxRunDurationMs: 86_400_000,
        maxStepOutputBytes: 262_144,
        maxConcurrentSteps: 16,
        webhookReplayWindowMs: 300_000,
        dedupeWindowMs: 86_400_000,
      },
      telemetry: { logLevel: "info", metrics: { enabled: true }, serviceName: "aat" },
      http: { allowHosts: [], maxResponseBytes: 1_048_576, timeoutMs: 10_000 },
      mcp: { servers: {}, endpoint: { enabled: true, waitMs: 30_000 } },
      chat: {
        historyTokenBudget: 6000,
        contextMaxItemChars: 4000,
        contextMaxTotalChars: 12_000,
        turnWaitMs: 300_000,
      },
      analytics: { sample: true, datasources: {}, maxRows: 1000, timeoutMs: 10_000 },
      coding: {
        enabled: true,
        maxFileBytes: 1_048_576,
        git: {
          enabled: true,
          schemes: ["https", "ssh"],
          allowedHosts: ["github.com", "gitlab.com", "bitbucket.org", "codeberg.org"],
        },
        runTests: { command: [], timeoutMs: 300_000, requireApproval: true },
      },
      threatintel: {
        feeds: [],
        cacheTtlMs: 3_600_000,
        timeoutMs: 8_000,
        abuseipdb: { baseUrl: "https://api.abuseipdb.com/api/v2", maxAgeInDays: 90, perMinute: 30 },
        virustotal: { baseUrl: "https://www.virustotal.com/api/v3", perMinute: 4 },
        otx: { baseUrl: "https://otx.alienvault.com/api/v1", perMinute: 60 },
        greynoise: { enabled: false, baseUrl: "https://api.greynoise.io/v3", perMinute: 10 },
      },
      actions: {
        channels: {},
        smtp: { port: 587, secure: false, from: "aat@localhost" },
        jira: { issueType: "Task" },
        servicenow: { table: "incident" },
        response: {},
      },
      alerts: { dedupeWindowMs: 86_400_000, relatedWindowMs: 86_400_000, sources: [] },
      features: {},
    });
  });

  it("treats an empty variable as unset", () => {
    const { config } = load({ AAT_SERVER_PORT: "", AAT_QUEUE_KIND: "  " });
    expect(config.server.port).toBe(8080);
    expect(config.queue.kind).toBe("sqlite");
  });
});

describe("environment variables", () => {
  it("parses numbers, including decimals", () => {
    const { config } = load({
      AAT_SERVER_PORT: "9090",
      AAT_LIMITS_MAX_CONCURRENT_STEPS: " 4 ",
      AAT_MODEL_DEFAULT_PROVIDER: "openai",
      AAT_MODEL_DEFAULT_MODEL: "gpt-4o-mini",
      AAT_MODEL_DEFAULT_COST_PER_MILLION_INPUT: "0.15",
    });
    expect(config.server.port).toBe(9090);
    expect(config.limits.maxConcurrentSteps).toBe(4);
    expect(config.models.providers.default?.costPerMillionInput).toBe(0.15);
  });

  it("parses booleans as true/false/1/0 in any case", () => {
    expect(load({ AAT_PLANS_WATCH: "false" }).config.plans.watch).toBe(false);
    expect(load({ AAT_PLANS_WATCH: "0" }).config.plans.watch).toBe(false);
    expect(load({ AAT_NATS_TLS: "1" }).config.queue.nats.tls).toBe(true);
    expect(load({ AAT_NATS_TLS: "TRUE" }).config.queue.nats.tls).toBe(true);
  });

  it("parses comma lists, dropping blanks, and JSON arrays", () => {
    const { config } = load({ AAT_HTTP_ALLOW_HOSTS: " api.example.com, ,*.corp.example.com," });
    expect(config.http.allowHosts).toEqual(["api.example.com", "*.corp.example.com"]);
    const json = load({ AAT_PLANS_DIRS: '["plans,old", "/etc/aat"]' });
    expect(json.config.plans.directories).toEqual(["/srv/aat/plans,old", "/etc/aat"]);
  });

  it("parses enums and URLs as given", () => {
    const { config } = load({
      AAT_SERVER_ROLE: "worker",
      AAT_SERVER_PUBLIC_URL: "https://aat.example.com",
      AAT_LOG_LEVEL: "debug",
    });
    expect(config.server.role).toBe("worker");
    expect(config.server.publicUrl).toBe("https://aat.example.com");
    expect(config.telemetry.logLevel).toBe("debug");
  });

  it("reads AAT_MODELS_JSON and lets AAT_MODEL_<ALIAS>_* override single fields", () => {
    const { config } = load({
      AAT_MODELS_JSON: JSON.stringify({
        fast: { provider: "openai", model: "gpt-4o-mini", apiKey: "from-json" },
        local: { provider: "openai-compatible", model: "llama3.1", baseUrl: "http://127.0.0.1:11434/v1" },
      }),
      AAT_MODEL_FAST_API_KEY: "from-variable",
      AAT_MODEL_CLAUDE_PROVIDER: "anthropic",
      AAT_MODEL_CLAUDE_MODEL: "claude-sonnet-4",
      AAT_MODELS_DEFAULT: "fast",
    });
    expect(config.models).toEqual({
      default: "fast",
      providers: {
        fast: { provider: "openai", model: "gpt-4o-mini", apiKey: "from-variable" },
        local: { provider: "openai-compatible", model: "llama3.1", baseUrl: "http://127.0.0.1:11434/v1" },
        claude: { provider: "anthropic", model: "claude-sonnet-4" },
      },
    });
  });

  it("reads feature flags from AAT_FEATURE_<NAME>, lower-casing the name", () => {
    const { config, warnings } = load({ AAT_FEATURE_CHAT_STREAMING: "true", AAT_FEATURE_Beta: "0" });
    expect(config.features).toEqual({ chat_streaming: true, beta: false });
    expect(warnings).toEqual([]);
  });

  it("accepts the variables other tools use, but the AAT_ one wins", () => {
    const aliases = load({
      PORT: "3000",
      REDIS_URL: "redis://cache:6379",
      AAT_KV_KIND: "redis",
      NATS_URL: "nats://a:4222,nats://b:4222",
    }).config;
    expect(aliases.server.port).toBe(3000);
    expect(aliases.kv.kind === "redis" && aliases.kv.redis.url).toBe("redis://cache:6379");
    expect(aliases.queue.nats.servers).toEqual(["nats://a:4222", "nats://b:4222"]);
    const both = load({ PORT: "3000", AAT_SERVER_PORT: "4000" }).config;
    expect(both.server.port).toBe(4000);
  });

  it("narrows the chosen queue's options to present", () => {
    const { config } = load({ AAT_QUEUE_KIND: "nats", AAT_NATS_SERVERS: "nats://127.0.0.1:4222" });
    const servers = (queue: AatConfig["queue"]): string[] =>
      queue.kind === "nats" ? queue.nats.servers : [];
    expect(servers(config.queue)).toEqual(["nats://127.0.0.1:4222"]);
  });

  it("warns about unknown AAT_ variables with a did-you-mean, and ignores other variables", () => {
    const { warnings } = load({
      AAT_SERVR_PORT: "1",
      AAT_MODEL_FAST_APIKEY: "x",
      AAT_SOMETHING_ELSE_ENTIRELY: "x",
      HOME: "/root",
    });
    expect(warnings).toEqual([
      "unknown environment variable AAT_SERVR_PORT: did you mean AAT_SERVER_PORT?",
      "unknown environment variable AAT_MODEL_FAST_APIKEY: did you mean AAT_MODEL_FAST_API_KEY?",
      "unknown environment variable AAT_SOMETHING_ELSE_ENTIRELY is ignored",
    ]);
  });
});

describe("config file and precedence", () => {
  it("layers defaults < file < env", () => {
    const { dir, path } = tempFile(
      "aat.yaml",
      ["server:", "  host: 0.0.0.0", "  port: 9000", "telemetry:", "  serviceName: from-file", ""].join("\n"),
    );
    const { config, file } = load({ AAT_CONFIG: "aat.yaml", AAT_SERVER_PORT: "9100" }, { cwd: dir });
    expect(file).toBe(path);
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 9100, role: "all" });
    expect(config.telemetry.serviceName).toBe("from-file");
  });

  it("reads JSON files and merges env fields into file map entries", () => {
    const { path } = tempFile(
      "aat.json",
      JSON.stringify({
        models: { default: "fast", providers: { fast: { provider: "openai", model: "gpt-4o" } } },
      }),
    );
    const { config } = load({ AAT_MODEL_FAST_API_KEY: "sk-env" }, { file: path });
    expect(config.models.providers).toEqual({
      fast: { provider: "openai", model: "gpt-4o", apiKey: "sk-env" },
    });
  });

  it("prefers the file option over AAT_CONFIG", () => {
    const { path } = tempFile("chosen.yaml", "server: { port: 7000 }\n");
    const { config } = load({ AAT_CONFIG: "/nowhere/aat.yaml" }, { file: path });
    expect(config.server.port).toBe(7000);
  });

  it("accepts an empty file", () => {
    const { path } = tempFile("empty.yaml", "# nothing yet\n");
    expect(load({}, { file: path }).config.server.port).toBe(8080);
  });

  it("resolves relative paths against cwd and keeps absolute ones", () => {
    const { config } = load({
      AAT_DATA_DIR: "state",
      AAT_PLANS_DIRS: "plans,/opt/plans",
      AAT_NATS_CREDS_FILE: "secrets/aat.creds",
    });
    expect(config.dataDir).toBe("/srv/aat/state");
    expect(config.plans.directories).toEqual(["/srv/aat/plans", "/opt/plans"]);
    expect(config.queue.nats.credsFile).toBe("/srv/aat/secrets/aat.creds");
  });
});

describe("coding settings", () => {
  it("reads the test command as a JSON argument vector and the workspace root as a path", () => {
    const { config } = load({
      AAT_CODING_RUN_TESTS_COMMAND: '["npm","test","--","--reporter=dot"]',
      AAT_CODING_WORKSPACE_ROOT: "checkouts",
      AAT_CODING_GIT_ALLOWED_HOSTS: "github.com,*.example.com",
    });
    expect(config.coding.runTests.command).toEqual(["npm", "test", "--", "--reporter=dot"]);
    expect(config.coding.workspaceRoot).toBe("/srv/aat/checkouts");
    expect(config.coding.git.allowedHosts).toEqual(["github.com", "*.example.com"]);
  });

  it("refuses an unknown git scheme and names the setting", () => {
    expect(() => load({ AAT_CODING_GIT_SCHEMES: "https,ftp" })).toThrow(
      /AAT_CODING_GIT_SCHEMES|coding\.git\.schemes/,
    );
  });
});
