import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";

const SECRET = "TOPSECRET-7f3a9c";

/** The ConfigError message loadConfig throws for this input; fails the test if it does not throw one. */
function errorOf(env: Record<string, string>, file?: string): string {
  try {
    loadConfig({ env, cwd: "/srv/aat", ...(file ? { file } : {}) });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected loadConfig to throw a ConfigError");
}

function tempFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "aat-config-")), name);
  writeFileSync(path, content);
  return path;
}

const one = (line: string) => `Invalid configuration (1 problem):\n${line}`;

describe("ConfigError messages", () => {
  it("names a bad number, its variable and the accepted range", () => {
    expect(errorOf({ AAT_SERVER_PORT: "80a" })).toBe(
      one('- server.port (env AAT_SERVER_PORT): "80a" is not a number; expected an integer from 0 to 65535'),
    );
    expect(errorOf({ AAT_SERVER_PORT: "70000" })).toBe(
      one("- server.port (env AAT_SERVER_PORT): 70000 is too large; expected an integer from 0 to 65535"),
    );
    expect(errorOf({ AAT_HTTP_TIMEOUT_MS: "0" })).toBe(
      one("- http.timeoutMs (env AAT_HTTP_TIMEOUT_MS): 0 is too small; expected an integer of at least 1"),
    );
  });

  it("names a bad boolean", () => {
    expect(errorOf({ AAT_PLANS_WATCH: "yes" })).toBe(
      one('- plans.watch (env AAT_PLANS_WATCH): "yes" is not a boolean; expected true or false'),
    );
  });

  it("lists the allowed values of an enum", () => {
    expect(errorOf({ AAT_QUEUE_KIND: "kafka" })).toBe(
      one(
        '- queue.kind (env AAT_QUEUE_KIND): "kafka" is not allowed; expected one of: memory, sqlite, nats, rabbitmq, sqs, pubsub, servicebus',
      ),
    );
  });

  it("requires the chosen queue kind's options, naming the key and variable", () => {
    expect(errorOf({ AAT_QUEUE_KIND: "nats" })).toBe(
      one(
        "- queue.nats.servers (env AAT_NATS_SERVERS): missing, required when queue.kind is nats; expected a list of NATS server URLs (env: comma-separated)",
      ),
    );
  });

  it("points at the file too when the kind was chosen there", () => {
    const file = tempFile("aat.yaml", "kv:\n  kind: upstash\n");
    expect(errorOf({}, file)).toBe(
      [
        "Invalid configuration (2 problems):",
        `- kv.upstash.url (env AAT_UPSTASH_URL, file ${file}): missing, required when kv.kind is upstash; expected an http:// or https:// URL`,
        `- kv.upstash.token (env AAT_UPSTASH_TOKEN, file ${file}): missing, required when kv.kind is upstash; expected a non-empty string`,
      ].join("\n"),
    );
  });

  it("refuses auth mode none without the explicit opt-in, explaining the risk", () => {
    expect(errorOf({ AAT_AUTH_MODE: "none" })).toBe(
      one(
        '- auth.mode (env AAT_AUTH_MODE): "none" turns authentication off: anyone who can reach the server could start runs, read their results and approve actions; expected apiKey or oidc, or set AAT_AUTH_ALLOW_NONE=true to accept that risk',
      ),
    );
    const { config } = loadConfig({ env: { AAT_AUTH_MODE: "none", AAT_AUTH_ALLOW_NONE: "true" } });
    expect(config.auth.mode).toBe("none");
  });

  it("requires issuer and audience for oidc", () => {
    expect(errorOf({ AAT_AUTH_MODE: "oidc", AAT_OIDC_ISSUER: "https://login.example.com" })).toBe(
      one(
        "- auth.oidc.audience (env AAT_OIDC_AUDIENCE): missing, required when auth.mode is oidc; expected a non-empty string",
      ),
    );
  });

  it("reports bad JSON in AAT_MODELS_JSON without quoting it", () => {
    expect(errorOf({ AAT_MODELS_JSON: `{"fast": {"provider": "openai", "apiKey": "${SECRET}",}}` })).toBe(
      one(
        "- models.providers (env AAT_MODELS_JSON): is not valid JSON; expected a JSON object mapping an alias (lower-case letters, digits and _, starting with a letter) to { provider, model, apiKey, baseUrl, region, project, timeoutMs, costPerMillionInput, costPerMillionOutput }",
      ),
    );
    expect(errorOf({ AAT_MODELS_JSON: "[1]" })).toContain(
      "- models.providers (env AAT_MODELS_JSON): is valid JSON but not an object;",
    );
  });

  it("checks model entries: provider, model, baseUrl, alias names and the default alias", () => {
    expect(
      errorOf({
        AAT_MODELS_JSON: JSON.stringify({
          fast: { provider: "openai" },
          local: { provider: "openai-compatible", model: "m" },
        }),
        AAT_MODEL_9X_PROVIDER: "offline",
        AAT_MODEL_ODD_PROVIDER: "gemini",
        AAT_MODELS_DEFAULT: "smart",
      }),
    ).toBe(
      [
        "Invalid configuration (5 problems):",
        "- models.providers.fast.model (env AAT_MODEL_FAST_MODEL): missing, required for provider openai; expected a non-empty string",
        "- models.providers.local.baseUrl (env AAT_MODEL_LOCAL_BASE_URL): missing, required for provider openai-compatible; expected an http:// or https:// URL",
        '- models.providers.9x (env AAT_MODEL_9X_PROVIDER): "9x" is not a valid name; expected lower-case letters, digits and _, starting with a letter',
        '- models.providers.odd.provider (env AAT_MODEL_ODD_PROVIDER): "gemini" is not allowed; expected one of: openai, anthropic, amazon-bedrock, google-vertex, azure, openai-compatible, offline',
        '- models.default (env AAT_MODELS_DEFAULT): "smart" is not a configured model alias; expected one of: fast, local, odd',
      ].join("\n"),
    );
  });

  it("rejects unknown keys in the file with a did-you-mean", () => {
    const file = tempFile(
      "aat.yaml",
      "queue:\n  kind: nats\n  natz:\n    servers: [nats://x:4222]\nsevrer: {}\n",
    );
    expect(errorOf({ AAT_NATS_SERVERS: "nats://x:4222" }, file)).toBe(
      [
        "Invalid configuration (2 problems):",
        `- queue.natz (file ${file}): unknown key (did you mean nats?); expected one of: kind, nats, rabbitmq, sqs, pubsub, servicebus`,
        `- sevrer (file ${file}): unknown key (did you mean server?); expected one of: server, dataDir, queue, kv, models, auth, plans, limits, telemetry, http, mcp, chat, analytics, coding, threatintel, actions, alerts, features`,
      ].join("\n"),
    );
  });

  it("shows the file's bad values and where they came from", () => {
    const file = tempFile("aat.yaml", "server:\n  port: http\n  role: boss\n");
    expect(errorOf({}, file)).toBe(
      [
        "Invalid configuration (2 problems):",
        `- server.port (env AAT_SERVER_PORT, file ${file}): "http" is not a number; expected an integer from 0 to 65535`,
        `- server.role (env AAT_SERVER_ROLE, file ${file}): "boss" is not allowed; expected one of: api, worker, all`,
      ].join("\n"),
    );
  });

  it("stops on a missing named file, whether named by AAT_CONFIG or by option", () => {
    expect(errorOf({ AAT_CONFIG: "missing.yaml" })).toBe(
      one(
        "- config file (env AAT_CONFIG, file /srv/aat/missing.yaml): file not found; expected a readable YAML or JSON file holding one object",
      ),
    );
    expect(errorOf({}, "/nowhere/aat.json")).toBe(
      one(
        "- config file (file /nowhere/aat.json): file not found; expected a readable YAML or JSON file holding one object",
      ),
    );
  });

  it("reports a syntax error by position and a non-object file by its type", () => {
    const broken = tempFile("aat.yaml", `kv:\n  redis:\n    url: "redis://:${SECRET}@h\n  kind: redis\n`);
    const message = errorOf({}, broken);
    expect(message).toMatch(
      /^Invalid configuration \(1 problem\):\n- config file \(file .*aat\.yaml\): is not valid YAML or JSON \([A-Z_]+ at line \d+, column \d+\); expected/,
    );
    expect(message).not.toContain(SECRET);
    const list = tempFile("aat.json", "[1, 2]");
    expect(errorOf({}, list)).toBe(
      one(
        `- config file (file ${list}): holds a list, not an object; expected a readable YAML or JSON file holding one object`,
      ),
    );
  });

  it("lists every problem at once, with warnings about misspelt variables after them", () => {
    expect(errorOf({ AAT_SERVER_PORT: "x", AAT_QUEUE_KIND: "sqs", AAT_SQS_QUEUEURL: "https://sqs/q" })).toBe(
      [
        "Invalid configuration (2 problems):",
        '- server.port (env AAT_SERVER_PORT): "x" is not a number; expected an integer from 0 to 65535',
        "- queue.sqs.queueUrl (env AAT_SQS_QUEUE_URL): missing, required when queue.kind is sqs; expected an http:// or https:// URL",
        "Warnings:",
        "- unknown environment variable AAT_SQS_QUEUEURL: did you mean AAT_SQS_QUEUE_URL?",
      ].join("\n"),
    );
  });
});

describe("secrets in error messages", () => {
  it("never shows a secret's value, from env or file", () => {
    const file = tempFile(
      "aat.yaml",
      [
        "models:",
        "  default: fast",
        "  providers:",
        "    fast: { provider: openai, model: gpt-4o, apiKey: 12345 }",
        `    slow: "${SECRET}"`,
        "",
      ].join("\n"),
    );
    const message = errorOf(
      {
        AAT_QUEUE_KIND: "rabbitmq",
        AAT_RABBITMQ_URL: `http://guest:${SECRET}@127.0.0.1`,
        AAT_AUTH_BOOTSTRAP_ADMIN_KEY: SECRET.slice(0, 10),
        AAT_KV_KIND: "redis",
        AAT_REDIS_URL: SECRET,
        AAT_NATS_PASS: SECRET,
        AAT_MODEL_FAST_API_KEY: "",
      },
      file,
    );
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(SECRET.slice(0, 10));
    expect(message).toBe(
      [
        "Invalid configuration (5 problems):",
        "- queue.rabbitmq.url (env AAT_RABBITMQ_URL): <redacted> is not a valid URL of the accepted kind; expected an amqp:// or amqps:// URL",
        "- kv.redis.url (env AAT_REDIS_URL): <redacted> is not a valid URL of the accepted kind; expected a redis:// or rediss:// URL",
        `- models.providers.fast.apiKey (env AAT_MODEL_FAST_API_KEY, file ${file}): <redacted> is not a string; expected a non-empty string`,
        `- models.providers.slow (env AAT_MODELS_JSON, file ${file}): <redacted> is not an object; expected an object with keys: provider, model, apiKey, baseUrl, region, project, timeoutMs, costPerMillionInput, costPerMillionOutput`,
        "- auth.bootstrapAdminKey (env AAT_AUTH_BOOTSTRAP_ADMIN_KEY): <redacted> is too short; expected a string of at least 16 characters",
      ].join("\n"),
    );
  });

  it("shows non-secret values but not secret ones in the same entry", () => {
    const message = errorOf({
      AAT_MODEL_FAST_API_KEY: SECRET,
      AAT_MODEL_FAST_COST_PER_MILLION_INPUT: "cheap",
    });
    expect(message).not.toContain(SECRET);
    expect(message).toBe(
      [
        "Invalid configuration (3 problems):",
        '- models.providers.fast.costPerMillionInput (env AAT_MODEL_FAST_COST_PER_MILLION_INPUT): "cheap" is not a number; expected a number of at least 0',
        "- models.providers.fast.provider (env AAT_MODEL_FAST_PROVIDER): missing; expected one of: openai, anthropic, amazon-bedrock, google-vertex, azure, openai-compatible, offline",
        '- models.default (env AAT_MODELS_DEFAULT): "default" is not a configured model alias; expected one of: fast',
      ].join("\n"),
    );
  });
});
