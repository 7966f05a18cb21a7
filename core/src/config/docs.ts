import { safeParse } from "zod/mini";
import { containsSecret, defaultOf, describeForm, listSettings, type SettingInfo } from "./introspect.js";
import { configFields } from "./schema.js";

/**
 * Renders docs/configuration.md from the schema. Deterministic (no dates), so a test can compare the
 * committed file with fresh output and the docs cannot drift from the code.
 */

/** A config file using most sections; a test loads it through the schema, so it stays valid. */
export const EXAMPLE_CONFIG_YAML = `# aat.yaml: start with  AAT_CONFIG=aat.yaml npm start
server:
  host: 0.0.0.0
  port: 8080
  publicUrl: https://aat.example.com
  role: all
dataDir: /var/lib/aat
queue:
  kind: nats
  nats:
    servers: [nats://127.0.0.1:4222]
    stream: AAT
kv:
  kind: redis
  redis:
    url: redis://127.0.0.1:6379/0 # a secret: better set AAT_REDIS_URL in the environment
models:
  default: fast
  providers:
    fast:
      provider: openai
      model: gpt-4o-mini
      # apiKey: set AAT_MODEL_FAST_API_KEY in the environment rather than here
    local:
      provider: openai-compatible
      model: llama3.1
      baseUrl: http://127.0.0.1:11434/v1
auth:
  mode: oidc
  oidc:
    issuer: https://login.example.com/realms/aat
    audience: aat-api
plans:
  directories: [plans, /etc/aat/plans]
  watch: false
telemetry:
  logLevel: info
http:
  allowHosts: [api.example.com, "*.internal.example.com"]
mcp:
  servers:
    files:
      command: npx
      args: ["-y", "@modelcontextprotocol/server-filesystem", /srv/share]
      dangerous: false # its tools are limited to reading below
      tools: [read_text_file, list_directory, search_files]
    tickets:
      transport: streamable-http
      url: https://mcp.example.com/mcp
      headers:
        Authorization: "Bearer {{secret:tickets_token}}" # from AAT_SECRET_TICKETS_TOKEN
  endpoint:
    waitMs: 30000
features:
  chat_streaming: true
`;

const INTRO = `# Configuration

<!-- Generated from core/src/config/schema.ts by \`npm run docs:config\`. Do not edit by hand. -->

Every setting of aat has a default, so \`npm start\` runs with no configuration at all: HTTP on
127.0.0.1:8080, queue and state in an SQLite file under \`./.aat\`, the offline model, API-key auth.

## Where settings come from

Later sources override earlier ones, setting by setting:

1. **Defaults**, listed in the tables below.
2. **A config file**, named by \`AAT_CONFIG\` (or passed to \`loadConfig({ file })\`). YAML, or JSON when the
   name ends in \`.json\`. Its keys are the dotted keys below, nested. A named file that does not exist is an
   error; unknown keys in it are errors (with a did-you-mean).
3. **Environment variables**, one per setting (the "Env var" column).

How environment values are read:

- numbers: \`8080\`, \`0.5\`; booleans: \`true\`/\`false\` or \`1\`/\`0\`;
- lists: comma-separated (\`a,b,c\`), or a JSON array when an entry itself contains a comma;
- an empty variable counts as unset;
- \`AAT_MODELS_JSON\` is a JSON object of model aliases; \`AAT_MODEL_<ALIAS>_<FIELD>\` variables set or
  override one field of one alias (\`AAT_MODEL_FAST_API_KEY\` sets \`models.providers.fast.apiKey\`);
- \`AAT_MCP_SERVERS_JSON\` is a JSON object of MCP servers; \`AAT_MCP_<NAME>_<FIELD>\` variables set or
  override one field of one server (\`AAT_MCP_FILES_COMMAND\` sets \`mcp.servers.files.command\`);
- \`AAT_FEATURE_<NAME>=true\` turns feature flag \`features.<name>\` on (names are lower-cased);
- an \`AAT_*\` variable that matches no setting is reported as a warning with a did-you-mean.

Relative paths (\`dataDir\`, \`plans.directories\`, \`queue.nats.credsFile\`) are resolved against the
working directory of the process.

Settings of a queue, KV store or auth mode that is not chosen are ignored; the chosen one's required
settings must be present ("required when" in the Default column).

## Errors

Invalid or missing settings stop start-up before anything else happens. The message lists every problem,
one per line, as

\`\`\`
- <key> (env <VAR>[, file <path>]): <problem>; expected <form>
\`\`\`

for example \`- server.port (env AAT_SERVER_PORT): "80a" is not a number; expected an integer from 0 to 65535\`.

## Secrets

Settings marked secret never appear in logs or error messages: errors show \`<redacted>\` in place of the
value, and \`redactConfig(config)\` gives a copy that is safe to log. Prefer environment variables (or your
platform's secret store feeding them) over writing secrets into the config file.

## OpenTelemetry

Tracing is configured with the standard \`OTEL_*\` variables
(\`OTEL_TRACES_EXPORTER\`, \`OTEL_EXPORTER_OTLP_ENDPOINT\`, \`OTEL_SERVICE_NAME\`, \`OTEL_RESOURCE_ATTRIBUTES\`,
\`OTEL_TRACES_SAMPLER\`, …), which the OpenTelemetry SDK reads itself; they are not repeated here. Tracing is
off unless \`OTEL_TRACES_EXPORTER\` (\`otlp\` or \`console\`) or an OTLP endpoint is set; see
[operations](operations.md#tracing-and-metrics) and
<https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/>. Prometheus metrics are
the \`telemetry.metrics\` settings below.

## Settings
`;

const TIME_UNITS: ReadonlyArray<[number, string]> = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "min"],
  [1000, "s"],
];
const SIZE_UNITS: ReadonlyArray<[number, string]> = [
  [1024 * 1024, "MiB"],
  [1024, "KiB"],
];

/** Adds a human reading to round millisecond and byte defaults: 86400000 (1 d), 262144 (256 KiB). */
function humanise(key: string, value: number): string {
  const units = key.endsWith("Ms") ? TIME_UNITS : key.endsWith("Bytes") ? SIZE_UNITS : [];
  const unit = units.find(([size]) => value >= size && value % size === 0);
  return unit ? `\`${value}\` (${value / unit[0]} ${unit[1]})` : `\`${value}\``;
}

function formatDefault(info: SettingInfo): string {
  const found = defaultOf(info.schema);
  const rule = info.meta.requiredWhen;
  if (!found) {
    if (info.path.at(-1)?.startsWith("<")) return "—";
    if (rule) return `required when \`${rule.key}\` is \`${rule.is}\``;
    return safeParse(info.schema, undefined).success ? "unset" : "required";
  }
  const value = found.value;
  const key = info.path.at(-1) ?? "";
  if (typeof value === "number") return humanise(key, value);
  if (Array.isArray(value))
    return value.length === 0 ? "empty" : value.map((item) => `\`${String(item)}\``).join(", ");
  if (typeof value === "object" && value !== null) {
    return Object.keys(value).length === 0 ? "empty" : `\`${JSON.stringify(value)}\``;
  }
  return `\`${String(value)}\``;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function row(info: SettingInfo): string {
  const { meta } = info;
  const env = meta.env
    ? [meta.env, ...(meta.envAliases ?? [])].map((name) => `\`${name}\``).join(" or ")
    : "(file only)";
  const description = meta.example ? `${meta.description} Example: \`${meta.example}\`.` : meta.description;
  const cells = [
    `\`${info.path.join(".")}\``,
    env,
    describeForm(info.schema),
    formatDefault(info),
    meta.secret ? "yes" : containsSecret(info.schema) ? "holds secrets" : "no",
    description,
  ];
  return `| ${cells.map(cell).join(" | ")} |`;
}

const TABLE_HEAD =
  "| Key | Env var | Type / allowed values | Default | Secret | Description |\n|---|---|---|---|---|---|";

/** One table per group of settings that share a parent; top-level values form the "general" group. */
export function renderConfigDocs(): string {
  const groups = new Map<string, SettingInfo[]>([["general", []]]);
  for (const info of listSettings(configFields)) {
    const group = info.path.length === 1 ? "general" : info.path.slice(0, -1).join(".");
    groups.set(group, [...(groups.get(group) ?? []), info]);
  }

  const sections: string[] = [INTRO];
  for (const [group, settings] of groups) {
    const heading = group.includes(".") ? "####" : "###";
    const condition = settings.find((info) => info.meta.requiredWhen)?.meta.requiredWhen;
    const used = condition ? `\nUsed when \`${condition.key}\` is \`${condition.is}\`.\n` : "";
    sections.push(`${heading} ${group}\n${used}\n${TABLE_HEAD}\n${settings.map(row).join("\n")}\n`);
  }
  sections.push(`## Example config file\n\n\`\`\`yaml\n${EXAMPLE_CONFIG_YAML}\`\`\`\n`);
  return sections.join("\n");
}
