// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform references (${resource.attribute}) are plain strings in synthesised JSON
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { DeployConfigError, forTarget, parseDeployConfig } from "@aat/infra-config";
import { Testing } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AzureDeployConfig,
  AzureStack,
  checkAzureConfig,
  hostTimeSpan,
  isoDuration,
  keyVaultSecretName,
} from "../src/index.js";
import { buildAzureSource } from "../src/source.js";

/**
 * The Azure stack synthesised from the real functions/azure package, once per KV kind: Azure Cache for
 * Redis (full synth, with the zip written) and Upstash (JSON only). Assertions read the Terraform JSON.
 */

const work = mkdtempSync(join(tmpdir(), "aat-infra-azure-"));
const mainTs = fileURLToPath(new URL("../src/main.ts", import.meta.url));

function azureConfig(yaml: string): AzureDeployConfig {
  return checkAzureConfig(forTarget(parseDeployConfig(yaml, "test.yaml"), "azure", "test.yaml"), "test.yaml");
}

const REDIS = `
name: aat
environment: dev
modelSecrets: { openai: aat-openai-key, azure-openai: team/azure_openai.key }
webhookSecrets: [aat-webhook-demo]
sizes:
  api: { memoryMb: 1024, timeoutSeconds: 30, maxInstances: 10, concurrency: 50 }
  worker: { memoryMb: 2048, timeoutSeconds: 240, maxInstances: 60, concurrency: 4 }
azure:
  location: northeurope
  queue: { kind: servicebus, maxDeliveryCount: 8, lockDurationSeconds: 90, duplicateDetectionMinutes: 30 }
  kv: { kind: azure-redis, sku: Premium, capacity: 2 }
  environment: { AAT_LOG_LEVEL: debug, AAT_AZURE_TIMER_SCHEDULE: "0 */5 * * * *" }
`;

const UPSTASH = `
name: aat
environment: prod
site: false
azure:
  location: westeurope
  resourceGroup: rg-aat-prod
  kv: { kind: upstash, secret: aat-upstash }
`;

// biome-ignore lint/suspicious/noExplicitAny: the synthesised Terraform JSON is read loosely by the assertions
type Json = Record<string, any>;
let redis: { text: string; json: Json; outdir: string };
let upstash: { text: string; json: Json };
let source: string;

const resources = (json: Json, type: string): Record<string, Json> => json.resource?.[type] ?? {};
const one = (json: Json, type: string, id: string): Json => {
  const found = resources(json, type)[id];
  if (!found) throw new Error(`no ${type}.${id} in the synthesised stack`);
  return found;
};

function expectResource(text: string, type: string, properties: Record<string, unknown>) {
  expect(
    Testing.toHaveResourceWithProperties(text, type, properties),
    `${type} with ${JSON.stringify(properties)}`,
  ).toBe(true);
}

beforeAll(async () => {
  source = await buildAzureSource(join(work, "build"));
  const stack = new AzureStack(Testing.app(), "aat-dev-azure", {
    config: azureConfig(REDIS),
    functionSource: source,
  });
  const outdir = Testing.fullSynth(stack);
  const text = readFileSync(join(outdir, "stacks/aat-dev-azure/cdk.tf.json"), "utf8");
  redis = { text, json: JSON.parse(text), outdir };

  const other = new AzureStack(Testing.app(), "aat-prod-azure", {
    config: azureConfig(UPSTASH),
    functionSource: source,
  });
  const otherText = Testing.synth(other);
  upstash = { text: otherText, json: JSON.parse(otherText) };
}, 120_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  if (redis?.outdir) rmSync(redis.outdir, { recursive: true, force: true });
});

describe("infra-azure: Function App", () => {
  it("runs the functions/azure package on Linux Flex Consumption, Node 22, by zip deploy", () => {
    expectResource(redis.text, "azurerm_service_plan", { os_type: "Linux", sku_name: "FC1" });
    const app = one(redis.json, "azurerm_function_app_flex_consumption", "function-app");
    expect(app).toMatchObject({
      runtime_name: "node",
      runtime_version: "22",
      https_only: true,
      service_plan_id: "${azurerm_service_plan.plan.id}",
      storage_authentication_type: "UserAssignedIdentity",
      storage_user_assigned_identity_id: "${azurerm_user_assigned_identity.identity.id}",
      identity: {
        type: "SystemAssigned, UserAssigned",
        identity_ids: ["${azurerm_user_assigned_identity.identity.id}"],
      },
      site_config: {
        application_insights_connection_string: "${azurerm_application_insights.insights.connection_string}",
      },
    });
    expect(app.zip_deploy_file).toMatch(/^assets\/functions-source\/[0-9A-F]+\/archive\.zip$/);
    const zip = readFileSync(join(redis.outdir, "stacks/aat-dev-azure", app.zip_deploy_file));
    for (const file of ["index.mjs", "host.json", "package.json"]) expect(zip.includes(file)).toBe(true);
    expect(JSON.parse(readFileSync(join(source, "package.json"), "utf8"))).toMatchObject({
      main: "index.mjs",
    });
    expect(JSON.parse(readFileSync(join(source, "host.json"), "utf8")).extensions.http.routePrefix).toBe("");
  });

  it("sizes the app from the deploy config within Flex Consumption's steps", () => {
    const app = one(redis.json, "azurerm_function_app_flex_consumption", "function-app");
    expect(app.instance_memory_in_mb).toBe(2048);
    expect(app.maximum_instance_count).toBe(60);
    expect(app.http_concurrency).toBe(50);
    expect(app.app_settings.AzureFunctionsJobHost__functionTimeout).toBe("00:04:00");
    expect(app.app_settings.AzureFunctionsJobHost__extensions__serviceBus__maxConcurrentCalls).toBe("4");
    // Flex Consumption's limit cannot go below 40 instances.
    expect(
      one(upstash.json, "azurerm_function_app_flex_consumption", "function-app").maximum_instance_count,
    ).toBe(40);
  });

  it("sets the app settings functions/azure starts with, secrets as Key Vault references", () => {
    const settings = one(redis.json, "azurerm_function_app_flex_consumption", "function-app").app_settings;
    expect(settings).toMatchObject({
      AAT_QUEUE_KIND: "servicebus",
      AAT_SERVICEBUS_QUEUE: "aat-steps",
      AAT_SERVICEBUS_CONNECTION_STRING:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-aat-dev-servicebus.versionless_id})",
      AAT_KV_KIND: "redis",
      AAT_REDIS_URL:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-aat-dev-redis-url.versionless_id})",
      // azure.environment overrides a default and adds a setting.
      AAT_AZURE_TIMER_SCHEDULE: "0 */5 * * * *",
      AAT_LOG_LEVEL: "debug",
      AAT_AUTH_MODE: "apiKey",
      AAT_AUTH_BOOTSTRAP_ADMIN_KEY:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-aat-dev-admin-key.versionless_id})",
      OPENAI_API_KEY:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-aat-openai-key.versionless_id})",
      AZURE_API_KEY:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-team-azure-openai-key.versionless_id})",
      AAT_SECRET_AAT_WEBHOOK_DEMO:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-aat-webhook-demo.versionless_id})",
      AAT_SERVER_CORS_ORIGINS: "https://${azurerm_static_web_app.site.default_host_name}",
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: "${azurerm_user_assigned_identity.identity.client_id}",
    });
    expect(settings.AAT_UPSTASH_URL).toBeUndefined();
  });
});

/** What the Functions Node worker provides as `@azure/functions-core`: records the registrations. */
const FAKE_CORE = `
const registered = [];
module.exports = {
  setProgrammingModel() {},
  getProgrammingModel() { return undefined; },
  registerHook() { return { dispose() {} }; },
  log() {},
  registerFunction(metadata) { registered.push(metadata); return { dispose() {} }; },
};
process.on("beforeExit", () => { process.stdout.write(JSON.stringify(registered)); });
`;

describe("infra-azure: the package under a stand-in Functions worker", () => {
  it("registers api, steps and schedules bound to the app settings the stack sets", async () => {
    const core = join(work, "build/node_modules/@azure/functions-core");
    mkdirSync(core, { recursive: true });
    writeFileSync(join(core, "index.js"), FAKE_CORE);
    writeFileSync(join(core, "package.json"), '{"name":"@azure/functions-core","main":"index.js"}');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(pathToFileURL(join(source, "index.mjs")).href)});`,
      ],
      { env: { PATH: process.env.PATH ?? "" } },
    );
    const functions = Object.fromEntries(
      (JSON.parse(stdout) as Json[]).map((f) => [
        f.name,
        Object.values(f.bindings as Record<string, Json>)[0],
      ]),
    );
    expect(Object.keys(functions).sort()).toEqual(["api", "schedules", "steps"]);
    expect(functions.api).toMatchObject({ type: "httpTrigger", authLevel: "anonymous", route: "{*path}" });
    const settings = one(redis.json, "azurerm_function_app_flex_consumption", "function-app").app_settings;
    // The trigger's connection is an app setting name and the queue a %setting%: both set by the stack.
    expect(functions.steps).toMatchObject({
      type: "serviceBusTrigger",
      connection: "AAT_SERVICEBUS_CONNECTION_STRING",
      queueName: "%AAT_SERVICEBUS_QUEUE%",
    });
    expect(settings.AAT_SERVICEBUS_CONNECTION_STRING).toBeDefined();
    expect(settings.AAT_SERVICEBUS_QUEUE).toBe("aat-steps");
    expect(functions.schedules).toMatchObject({
      type: "timerTrigger",
      schedule: "%AAT_AZURE_TIMER_SCHEDULE%",
    });
    expect(settings.AAT_AZURE_TIMER_SCHEDULE).toBeDefined();
  });
});

describe("infra-azure: Service Bus", () => {
  it("has duplicate detection, dead-lettering after maxDeliveryCount and no sessions", () => {
    expectResource(redis.text, "azurerm_servicebus_namespace", {
      sku: "Standard",
      minimum_tls_version: "1.2",
    });
    expect(one(redis.json, "azurerm_servicebus_queue", "steps-queue")).toMatchObject({
      name: "aat-steps",
      namespace_id: "${azurerm_servicebus_namespace.servicebus.id}",
      requires_duplicate_detection: true,
      duplicate_detection_history_time_window: "PT30M",
      // functions/azure sends without a sessionId and its trigger is not session-enabled.
      requires_session: false,
      max_delivery_count: 8,
      lock_duration: "PT1M30S",
      dead_lettering_on_message_expiration: true,
    });
  });

  it("gives the functions a queue-scoped send/listen rule, kept in Key Vault", () => {
    expect(one(redis.json, "azurerm_servicebus_queue_authorization_rule", "steps-queue-rule")).toMatchObject({
      queue_id: "${azurerm_servicebus_queue.steps-queue.id}",
      send: true,
      listen: true,
      manage: false,
    });
    expect(one(redis.json, "azurerm_key_vault_secret", "secret-aat-dev-servicebus").value).toBe(
      "${azurerm_servicebus_queue_authorization_rule.steps-queue-rule.primary_connection_string}",
    );
  });
});

describe("infra-azure: identity and roles", () => {
  it("assigns Service Bus, Key Vault and storage roles scoped to the queue, the vault and the account", () => {
    const roles = Object.values(resources(redis.json, "azurerm_role_assignment")).map((r) => [
      r.role_definition_name,
      r.scope,
      r.principal_id,
    ]);
    const identity = "${azurerm_user_assigned_identity.identity.principal_id}";
    expect(roles).toEqual(
      expect.arrayContaining([
        ["Azure Service Bus Data Sender", "${azurerm_servicebus_queue.steps-queue.id}", identity],
        ["Azure Service Bus Data Receiver", "${azurerm_servicebus_queue.steps-queue.id}", identity],
        ["Key Vault Secrets User", "${azurerm_key_vault.vault.id}", identity],
        ["Storage Blob Data Owner", "${azurerm_storage_account.storage.id}", identity],
        [
          "Key Vault Secrets User",
          "${azurerm_key_vault.vault.id}",
          "${azurerm_function_app_flex_consumption.function-app.identity[0].principal_id}",
        ],
        [
          "Key Vault Secrets Officer",
          "${azurerm_key_vault.vault.id}",
          "${data.azurerm_client_config.client.object_id}",
        ],
      ]),
    );
    expect(roles).toHaveLength(6);
    // Nothing is granted on the resource group or the subscription.
    for (const [, scope] of roles) expect(scope).not.toMatch(/resource_group|subscription/);
  });
});

describe("infra-azure: secrets, monitoring, site", () => {
  it("keeps every secret in an RBAC Key Vault, placeholders until operators set them", () => {
    expectResource(redis.text, "azurerm_key_vault", {
      rbac_authorization_enabled: true,
      sku_name: "standard",
    });
    const secrets = resources(redis.json, "azurerm_key_vault_secret");
    expect(
      Object.values(secrets)
        .map((s) => s.name)
        .sort(),
    ).toEqual([
      "aat-dev-admin-key",
      "aat-dev-redis-url",
      "aat-dev-servicebus",
      "aat-openai-key",
      "aat-webhook-demo",
      "team-azure-openai-key",
    ]);
    for (const name of ["aat-openai-key", "aat-webhook-demo", "aat-dev-admin-key"]) {
      const s = one(redis.json, "azurerm_key_vault_secret", `secret-${name}`);
      expect(s.value).toMatch(/^unset-[0-9a-f]{48}$/);
      expect(s.lifecycle).toEqual({ ignore_changes: ["value"] });
      expect(s.depends_on).toEqual(["azurerm_role_assignment.deployer-vault-officer"]);
    }
  });

  it("sends logs to Application Insights on a Log Analytics workspace", () => {
    expectResource(redis.text, "azurerm_application_insights", {
      application_type: "Node.JS",
      workspace_id: "${azurerm_log_analytics_workspace.logs.id}",
    });
  });

  it("creates a Static Web App for the site, in a region it runs in", () => {
    expectResource(redis.text, "azurerm_static_web_app", {
      name: "aat-dev-site",
      sku_tier: "Free",
      location: "westeurope",
    });
    expect(redis.json.output.site_deployment_token).toMatchObject({ sensitive: true });
    expect(resources(upstash.json, "azurerm_static_web_app")).toEqual({});
  });
});

describe("infra-azure: KV kinds", () => {
  it("runs Azure Cache for Redis over TLS and gives the app its URL as a secret", () => {
    expect(one(redis.json, "azurerm_redis_cache", "redis")).toMatchObject({
      sku_name: "Premium",
      family: "P",
      capacity: 2,
      non_ssl_port_enabled: false,
      minimum_tls_version: "1.2",
    });
    const url = one(redis.json, "azurerm_key_vault_secret", "secret-aat-dev-redis-url");
    expect(url.value).toBe(
      "rediss://:${azurerm_redis_cache.redis.primary_access_key}@${azurerm_redis_cache.redis.hostname}:${azurerm_redis_cache.redis.ssl_port}/0",
    );
    expect(url.lifecycle).toBeUndefined();
  });

  it("uses Upstash from two Key Vault secrets when kv.kind is upstash, and the named resource group", () => {
    expect(resources(upstash.json, "azurerm_redis_cache")).toEqual({});
    const settings = one(upstash.json, "azurerm_function_app_flex_consumption", "function-app").app_settings;
    expect(settings).toMatchObject({
      AAT_KV_KIND: "upstash",
      AAT_UPSTASH_URL:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-aat-upstash-url.versionless_id})",
      AAT_UPSTASH_TOKEN:
        "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.secret-aat-upstash-token.versionless_id})",
    });
    expect(settings.AAT_REDIS_URL).toBeUndefined();
    expect(settings.AAT_SERVER_CORS_ORIGINS).toBeUndefined();
    expectResource(upstash.text, "azurerm_resource_group", { name: "rg-aat-prod", location: "westeurope" });
  });
});

describe("infra-azure: deploy config", () => {
  it("fails synth on a bad deploy config with the key and the reason", async () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(
      bad,
      "name: aat\nenvironment: dev\nazure:\n  location: westeurope\n  kv: { kind: memorystore }\n",
    );
    const failure = await promisify(execFile)(process.execPath, ["--import", "tsx", mainTs], {
      env: { ...process.env, AAT_DEPLOY_CONFIG: bad, CDKTF_OUTDIR: join(work, "never") },
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/bad\.yaml:5:\d+ azure\.kv\.kind: /);
  });

  it("refuses a Premium cache of capacity 0, a missing azure section and a stack-owned setting", () => {
    expect(() =>
      azureConfig(
        "name: aat\nenvironment: dev\nazure: { location: westeurope, kv: { kind: azure-redis, sku: Premium, capacity: 0 } }\n",
      ),
    ).toThrow(/azure\.kv\.capacity: Premium caches come in capacity 1 to 5/);
    expect(() => azureConfig("name: aat\nenvironment: dev\n")).toThrow(DeployConfigError);
    expect(() =>
      azureConfig(
        "name: aat\nenvironment: dev\nazure:\n  location: westeurope\n  environment: { AAT_SERVICEBUS_QUEUE: other }\n",
      ),
    ).toThrow(/azure\.environment\.AAT_SERVICEBUS_QUEUE: set by the stack/);
  });

  it("writes Azure's duration and name formats", () => {
    expect(isoDuration(300)).toBe("PT5M");
    expect(isoDuration(90)).toBe("PT1M30S");
    expect(isoDuration(10080 * 60)).toBe("P7D");
    expect(hostTimeSpan(3599)).toBe("00:59:59");
    expect(keyVaultSecretName("team/a_b.c")).toBe("team-a-b-c");
  });
});
