// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform references (${resource.attribute}) are plain strings in synthesised JSON
import { execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DeployConfigError, forTarget, parseDeployConfig } from "@aat/infra-config";
import { Testing } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkGcpConfig, fitName, type GcpDeployConfig, GcpStack } from "../src/index.js";
import { buildGcpSources } from "../src/source.js";

/**
 * The Google Cloud stack synthesised from the real functions/gcp bundle, once per KV kind: Upstash (full
 * synth, with the zipped source written) and Memorystore (JSON only). Assertions read the Terraform JSON.
 */

const work = mkdtempSync(join(tmpdir(), "aat-infra-gcp-"));
const mainTs = fileURLToPath(new URL("../src/main.ts", import.meta.url));

function gcpConfig(yaml: string): GcpDeployConfig {
  return checkGcpConfig(forTarget(parseDeployConfig(yaml, "test.yaml"), "gcp", "test.yaml"), "test.yaml");
}

const UPSTASH = `
name: aat
environment: dev
modelSecrets: { openai: aat-openai-key, anthropic: team/anthropic.key }
webhookSecrets: [aat-webhook-demo]
sizes:
  worker: { memoryMb: 2048, timeoutSeconds: 240, maxInstances: 5, concurrency: 4 }
gcp:
  project: my-aat-project
  region: europe-west1
  queue: { kind: pubsub, maxDeliveryAttempts: 7, ackDeadlineSeconds: 300, minimumBackoffSeconds: 15, maximumBackoffSeconds: 300 }
  kv: { kind: upstash, secret: aat-upstash }
  environment: { AAT_LOG_LEVEL: debug, AAT_PLANS_DIRS: "[]", AAT_MODELS_JSON: '{"default":{"provider":"offline"}}' }
`;

const MEMORYSTORE = `
name: aat
environment: prod
domain: aat.example.com
gcp:
  project: my-aat-project
  region: europe-west1
  kv: { kind: memorystore, memorySizeGb: 2, connectorCidr: 10.9.0.0/28 }
`;

// biome-ignore lint/suspicious/noExplicitAny: the synthesised Terraform JSON is read loosely by the assertions
type Json = Record<string, any>;
let upstash: { text: string; json: Json; outdir: string };
let memorystore: { text: string; json: Json };

const resources = (json: Json, type: string): Record<string, Json> => json.resource?.[type] ?? {};

function expectResource(text: string, type: string, properties: Record<string, unknown>) {
  expect(
    Testing.toHaveResourceWithProperties(text, type, properties),
    `${type} with ${JSON.stringify(properties)}`,
  ).toBe(true);
}

beforeAll(async () => {
  const functionSources = await buildGcpSources(join(work, "build"));
  const site = join(work, "site");
  mkdirSync(join(site, "assets"), { recursive: true });
  writeFileSync(join(site, "index.html"), "<!doctype html><title>aat</title>");
  writeFileSync(join(site, "assets/app.js"), "console.log('aat')");
  writeFileSync(join(site, "config.json"), '{"apiBaseUrl":""}');

  const app = Testing.app();
  const stack = new GcpStack(app, "aat-dev-gcp", {
    config: gcpConfig(UPSTASH),
    functionSources,
    siteDir: site,
  });
  const outdir = Testing.fullSynth(stack);
  const text = readFileSync(join(outdir, "stacks/aat-dev-gcp/cdk.tf.json"), "utf8");
  upstash = { text, json: JSON.parse(text), outdir };

  const other = new GcpStack(Testing.app(), "aat-prod-gcp", {
    config: gcpConfig(MEMORYSTORE),
    functionSources,
    siteDir: site,
  });
  const otherText = Testing.synth(other);
  memorystore = { text: otherText, json: JSON.parse(otherText) };
}, 120_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  if (upstash?.outdir) rmSync(upstash.outdir, { recursive: true, force: true });
});

describe("infra-gcp: functions", () => {
  it("deploys api, steps and schedules on Node 22, each from its zipped functions/gcp bundle", () => {
    const functions = resources(upstash.json, "google_cloudfunctions2_function");
    const deployed = Object.values(functions).map((f) => [
      f.name,
      f.build_config.entry_point,
      f.build_config.runtime,
    ]);
    expect(deployed.sort()).toEqual([
      ["aat-dev-api", "api", "nodejs22"],
      ["aat-dev-schedules", "schedules", "nodejs22"],
      ["aat-dev-steps", "steps", "nodejs22"],
    ]);
    const objects = resources(upstash.json, "google_storage_bucket_object");
    for (const name of ["api", "steps", "schedules"]) {
      // Each function is built from its own bundle (functions/gcp's bundleHandlers, one per function).
      expect(functions[`function-${name}`]?.build_config.source.storage_source).toEqual({
        bucket: "${google_storage_bucket.functions-bucket.name}",
        object: `\${google_storage_bucket_object.functions-source-${name}-object.name}`,
      });
      const object = objects[`functions-source-${name}-object`];
      expect(object?.name).toMatch(new RegExp(`^functions/${name}/[0-9A-F]+\\.zip$`));
      expect(object?.source).toMatch(new RegExp(`^assets/functions-source-${name}/[0-9A-F]+/archive\\.zip$`));
      // The archive cdktf wrote holds the bundle and the manifest naming the Functions Framework.
      const zip = readFileSync(join(upstash.outdir, "stacks/aat-dev-gcp", object?.source));
      expect(zip.includes("index.mjs")).toBe(true);
      expect(zip.includes("package.json")).toBe(true);
      const manifest = JSON.parse(readFileSync(join(work, `build/${name}/package.json`), "utf8"));
      expect(manifest).toMatchObject({ main: "index.mjs", type: "module" });
      expect(manifest.dependencies["@google-cloud/functions-framework"]).toBeTruthy();
      expect(readdirSync(join(work, `build/${name}`))).toContain("index.mjs");
    }
  });

  it("sizes each function from the deploy config and runs it as its own service account", () => {
    expectResource(upstash.text, "google_cloudfunctions2_function", {
      name: "aat-dev-steps",
      service_config: {
        available_memory: "2048Mi",
        timeout_seconds: 240,
        max_instance_count: 5,
        max_instance_request_concurrency: 4,
        service_account_email: "${google_service_account.sa-worker.email}",
      },
    });
    expectResource(upstash.text, "google_cloudfunctions2_function", {
      name: "aat-dev-api",
      service_config: {
        available_memory: "1024Mi",
        timeout_seconds: 30,
        max_instance_request_concurrency: 80,
        service_account_email: "${google_service_account.sa-api.email}",
      },
    });
    const accounts = Object.values(resources(upstash.json, "google_service_account")).map(
      (a) => a.account_id,
    );
    expect(accounts.sort()).toEqual(["aat-dev-api", "aat-dev-push", "aat-dev-scheduler", "aat-dev-worker"]);
  });

  it("sets the environment functions/gcp starts with (docs/configuration.md) and secrets as secret variables", () => {
    for (const f of Object.values(resources(upstash.json, "google_cloudfunctions2_function"))) {
      expect(f.service_config.environment_variables).toMatchObject({
        AAT_QUEUE_KIND: "pubsub",
        AAT_PUBSUB_PROJECT_ID: "my-aat-project",
        AAT_PUBSUB_TOPIC: "aat-dev-steps",
        AAT_KV_KIND: "upstash",
        AAT_AUTH_MODE: "apiKey",
        // gcp.environment
        AAT_LOG_LEVEL: "debug",
        AAT_MODELS_JSON: '{"default":{"provider":"offline"}}',
      });
      const secretEnv = Object.fromEntries(
        f.service_config.secret_environment_variables.map((s: Json) => [s.key, s.secret]),
      );
      expect(secretEnv).toEqual({
        OPENAI_API_KEY: "${google_secret_manager_secret.secret-aat-openai-key.secret_id}",
        ANTHROPIC_API_KEY: "${google_secret_manager_secret.secret-team-anthropic-key.secret_id}",
        AAT_SECRET_AAT_WEBHOOK_DEMO: "${google_secret_manager_secret.secret-aat-webhook-demo.secret_id}",
        AAT_AUTH_BOOTSTRAP_ADMIN_KEY: "${google_secret_manager_secret.secret-aat-dev-admin-key.secret_id}",
        AAT_UPSTASH_URL: "${google_secret_manager_secret.secret-aat-upstash-url.secret_id}",
        AAT_UPSTASH_TOKEN: "${google_secret_manager_secret.secret-aat-upstash-token.secret_id}",
      });
      expect(f.service_config.secret_environment_variables.every((s: Json) => s.version === "latest")).toBe(
        true,
      );
      expect(f.service_config.vpc_connector).toBeUndefined();
    }
    const api = resources(upstash.json, "google_cloudfunctions2_function")["function-api"];
    expect(api?.service_config.environment_variables.AAT_SERVER_CORS_ORIGINS).toBe(
      "http://${google_compute_global_address.site-address.address}",
    );
  });
});

describe("infra-gcp: the bundle under the Functions Framework", () => {
  it("starts with the framework's own CLI (as the buildpack runs it) and serves the schedules function", async () => {
    const cli = fileURLToPath(
      new URL("../../node_modules/@google-cloud/functions-framework/build/src/main.js", import.meta.url),
    );
    expect(existsSync(cli)).toBe(true);
    // The buildpack installs the framework next to the source; here the repository's copy stands in.
    const root = fileURLToPath(new URL("../../node_modules", import.meta.url));
    if (!existsSync(join(work, "build/node_modules")))
      symlinkSync(root, join(work, "build/node_modules"), "dir");
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const child = spawn(
      process.execPath,
      [cli, "--target=schedules", `--source=${join(work, "build/schedules")}`],
      {
        env: { PATH: process.env.PATH ?? "", PORT: String(port) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    try {
      await new Promise<void>((resolve, reject) => {
        child.on("exit", (code) => reject(new Error(`functions-framework exited with ${code}: ${output}`)));
        const wait = setInterval(() => {
          if (output.includes("Serving function")) {
            clearInterval(wait);
            resolve();
          }
        }, 50);
      });
      // A GET is refused before the runtime is built: the function registered with the CLI's framework.
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.status).toBe(405);
      expect(await response.json()).toMatchObject({ error: "method_not_allowed" });
    } finally {
      child.kill();
    }
  });
});

describe("infra-gcp: queue", () => {
  it("pushes to the steps function with an OIDC token of the push identity, for its URL", () => {
    expectResource(upstash.text, "google_pubsub_subscription", {
      name: "aat-dev-steps-push",
      topic: "${google_pubsub_topic.steps-topic.id}",
      ack_deadline_seconds: 300,
      push_config: {
        push_endpoint:
          "${google_cloudfunctions2_function.function-steps.service_config[0].uri}/projects/my-aat-project/topics/aat-dev-steps",
        oidc_token: {
          service_account_email: "${google_service_account.sa-push.email}",
          audience: "${google_cloudfunctions2_function.function-steps.service_config[0].uri}",
        },
      },
    });
  });

  it("retries with the configured backoff and dead-letters to <topic>-dead after maxDeliveryAttempts", () => {
    expectResource(upstash.text, "google_pubsub_topic", { name: "aat-dev-steps-dead" });
    expectResource(upstash.text, "google_pubsub_subscription", {
      name: "aat-dev-steps-push",
      dead_letter_policy: {
        dead_letter_topic: "${google_pubsub_topic.steps-dead-topic.id}",
        max_delivery_attempts: 7,
      },
      retry_policy: { minimum_backoff: "15s", maximum_backoff: "300s" },
    });
    // The subscriptions the Pub/Sub adapter opens at start exist, so it never has to create them.
    expectResource(upstash.text, "google_pubsub_subscription", { name: "aat-dev-steps-work" });
    expectResource(upstash.text, "google_pubsub_subscription", {
      name: "aat-dev-steps-dead-store",
      topic: "${google_pubsub_topic.steps-dead-topic.id}",
    });
    // Pub/Sub's service agent may forward dead letters and mint the push identity's tokens.
    const agent =
      "serviceAccount:service-${data.google_project.project.number}@gcp-sa-pubsub.iam.gserviceaccount.com";
    expectResource(upstash.text, "google_pubsub_topic_iam_member", {
      topic: "${google_pubsub_topic.steps-dead-topic.name}",
      role: "roles/pubsub.publisher",
      member: agent,
    });
    expectResource(upstash.text, "google_pubsub_subscription_iam_member", {
      subscription: "${google_pubsub_subscription.steps-push.name}",
      role: "roles/pubsub.subscriber",
      member: agent,
    });
    expectResource(upstash.text, "google_service_account_iam_member", {
      service_account_id: "${google_service_account.sa-push.name}",
      role: "roles/iam.serviceAccountTokenCreator",
      member: agent,
    });
  });

  it("fires the schedules function every minute from Cloud Scheduler with an OIDC token", () => {
    expectResource(upstash.text, "google_cloud_scheduler_job", {
      name: "aat-dev-schedules",
      region: "europe-west1",
      schedule: "* * * * *",
      http_target: {
        uri: "${google_cloudfunctions2_function.function-schedules.service_config[0].uri}",
        http_method: "POST",
        oidc_token: {
          service_account_email: "${google_service_account.sa-scheduler.email}",
          audience: "${google_cloudfunctions2_function.function-schedules.service_config[0].uri}",
        },
      },
    });
  });
});

describe("infra-gcp: least privilege", () => {
  it("lets only the push identity invoke steps and only the scheduler invoke schedules; the API is public", () => {
    const invokers = Object.values(resources(upstash.json, "google_cloud_run_v2_service_iam_member")).map(
      (m) => [m.name, m.role, m.member],
    );
    expect(invokers.sort()).toEqual([
      ["${google_cloudfunctions2_function.function-api.name}", "roles/run.invoker", "allUsers"],
      [
        "${google_cloudfunctions2_function.function-schedules.name}",
        "roles/run.invoker",
        "${google_service_account.sa-scheduler.member}",
      ],
      [
        "${google_cloudfunctions2_function.function-steps.name}",
        "roles/run.invoker",
        "${google_service_account.sa-push.member}",
      ],
    ]);
  });

  it("binds Pub/Sub and secret roles on the topics, subscriptions and secrets, not the project", () => {
    // The stack owns the topics and subscriptions (AAT_PUBSUB_PROVISION=false): no project-wide role.
    expect(resources(upstash.json, "google_project_iam_member")).toEqual({});
    expect(resources(upstash.json, "google_project_iam_custom_role")).toEqual({});
    const topicRoles = Object.values(resources(upstash.json, "google_pubsub_topic_iam_member"));
    expect(new Set(topicRoles.map((m) => m.topic))).toEqual(
      new Set(["${google_pubsub_topic.steps-topic.name}", "${google_pubsub_topic.steps-dead-topic.name}"]),
    );
    const workerTopicRoles = topicRoles
      .filter((m) => m.member === "${google_service_account.sa-worker.member}")
      .map((m) => `${m.topic} ${m.role}`);
    expect(workerTopicRoles.sort()).toEqual(
      ["steps-dead-topic", "steps-topic"].flatMap((t) =>
        ["publisher", "viewer"].map((r) => `\${google_pubsub_topic.${t}.name} roles/pubsub.${r}`),
      ),
    );
    const secretRoles = Object.values(resources(upstash.json, "google_secret_manager_secret_iam_member"));
    expect(secretRoles.every((m) => m.role === "roles/secretmanager.secretAccessor")).toBe(true);
    expect(
      secretRoles.every((m) => /^\$\{google_secret_manager_secret\.[^}]+\.id\}$/.test(m.secret_id)),
    ).toBe(true);
    expect(secretRoles).toHaveLength(6 * 2);
  });
});

describe("infra-gcp: secrets and site", () => {
  it("creates each secret with a placeholder version operators replace", () => {
    const ids = Object.values(resources(upstash.json, "google_secret_manager_secret")).map(
      (s) => s.secret_id,
    );
    expect(ids.sort()).toEqual([
      "aat-dev-admin-key",
      "aat-openai-key",
      "aat-upstash-token",
      "aat-upstash-url",
      "aat-webhook-demo",
      "team-anthropic-key",
    ]);
    for (const version of Object.values(resources(upstash.json, "google_secret_manager_secret_version"))) {
      expect(version.secret_data).toMatch(/^unset-[0-9a-f]{48}$/);
      expect(version.lifecycle).toEqual({ ignore_changes: ["secret_data"] });
    }
  });

  it("serves the site from a public website bucket with /config.json naming the API", () => {
    expectResource(upstash.text, "google_storage_bucket", {
      name: "my-aat-project-aat-dev-site",
      website: { main_page_suffix: "index.html", not_found_page: "index.html" },
      uniform_bucket_level_access: true,
    });
    expectResource(upstash.text, "google_storage_bucket_iam_member", {
      bucket: "${google_storage_bucket.site-bucket.name}",
      role: "roles/storage.objectViewer",
      member: "allUsers",
    });
    const objects = Object.values(resources(upstash.json, "google_storage_bucket_object"));
    const siteObjects = objects.filter((o) => o.bucket === "${google_storage_bucket.site-bucket.name}");
    // The site's own config.json is replaced by the one naming this deployment's API.
    expect(siteObjects.map((o) => o.name).sort()).toEqual(["assets/app.js", "config.json", "index.html"]);
    expect(siteObjects.find((o) => o.name === "index.html")?.content_type).toBe("text/html; charset=utf-8");
    const config = objects.find((o) => o.name === "config.json");
    expect(JSON.parse(config?.content)).toEqual({
      apiBaseUrl: "${google_cloudfunctions2_function.function-api.service_config[0].uri}",
      auth: { mode: "apiKey" },
    });
    expect(config?.cache_control).toBe("no-store");
  });

  it("serves the bucket at the root of an origin through a load balancer: HTTP on its address without a domain", () => {
    expectResource(upstash.text, "google_compute_backend_bucket", {
      bucket_name: "${google_storage_bucket.site-bucket.name}",
      enable_cdn: true,
    });
    expectResource(upstash.text, "google_compute_url_map", {
      default_service: "${google_compute_backend_bucket.site-backend.id}",
    });
    expectResource(upstash.text, "google_compute_target_http_proxy", {
      url_map: "${google_compute_url_map.site-url-map.id}",
    });
    expectResource(upstash.text, "google_compute_global_forwarding_rule", {
      target: "${google_compute_target_http_proxy.site-proxy.id}",
      ip_address: "${google_compute_global_address.site-address.address}",
      port_range: "80",
    });
    expect(resources(upstash.json, "google_compute_managed_ssl_certificate")).toEqual({});
  });

  it("serves HTTPS with a Google-managed certificate for the domain, and lists it for CORS", () => {
    expectResource(memorystore.text, "google_compute_managed_ssl_certificate", {
      managed: { domains: ["aat.example.com"] },
    });
    expectResource(memorystore.text, "google_compute_target_https_proxy", {
      url_map: "${google_compute_url_map.site-url-map.id}",
      ssl_certificates: ["${google_compute_managed_ssl_certificate.site-certificate.id}"],
    });
    expectResource(memorystore.text, "google_compute_global_forwarding_rule", {
      target: "${google_compute_target_https_proxy.site-proxy.id}",
      port_range: "443",
    });
    const api = resources(memorystore.json, "google_cloudfunctions2_function")["function-api"];
    expect(api?.service_config.environment_variables.AAT_SERVER_CORS_ORIGINS).toBe("https://aat.example.com");
  });
});

describe("infra-gcp: Memorystore", () => {
  it("runs Memorystore for Redis behind a VPC connector and gives the functions its URL as a secret", () => {
    expectResource(memorystore.text, "google_redis_instance", {
      name: "aat-prod-kv",
      memory_size_gb: 2,
      auth_enabled: true,
      connect_mode: "DIRECT_PEERING",
      authorized_network: "${google_compute_network.vpc.id}",
    });
    expectResource(memorystore.text, "google_vpc_access_connector", {
      name: "aat-prod-conn",
      ip_cidr_range: "10.9.0.0/28",
      network: "${google_compute_network.vpc.name}",
    });
    for (const f of Object.values(resources(memorystore.json, "google_cloudfunctions2_function"))) {
      expect(f.service_config.environment_variables.AAT_KV_KIND).toBe("redis");
      expect(f.service_config.vpc_connector).toBe("${google_vpc_access_connector.vpc-connector.id}");
      expect(f.service_config.vpc_connector_egress_settings).toBe("PRIVATE_RANGES_ONLY");
      const keys = f.service_config.secret_environment_variables.map((s: Json) => s.key);
      expect(keys).toEqual(["AAT_AUTH_BOOTSTRAP_ADMIN_KEY", "AAT_REDIS_URL"]);
    }
    const url = resources(memorystore.json, "google_secret_manager_secret_version")[
      "secret-aat-prod-redis-url-initial"
    ];
    expect(url?.secret_data).toBe(
      "redis://:${google_redis_instance.memorystore.auth_string}@${google_redis_instance.memorystore.host}:${google_redis_instance.memorystore.port}/0",
    );
    expect(url?.lifecycle).toBeUndefined();
    const apis = Object.values(resources(memorystore.json, "google_project_service")).map((s) => s.service);
    expect(apis).toEqual(expect.arrayContaining(["redis.googleapis.com", "vpcaccess.googleapis.com"]));
    expect(Object.keys(resources(memorystore.json, "google_secret_manager_secret"))).not.toContain(
      "secret-aat-upstash-url",
    );
  });
});

describe("infra-gcp: deploy config", () => {
  it("fails synth on a bad deploy config with the key and the reason", async () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(
      bad,
      "name: aat\nenvironment: dev\ngcp:\n  project: my-aat-project\n  region: europe-west1\n  queue: { maxDeliveryAttempts: 2 }\n",
    );
    const run = promisify(execFile)(process.execPath, ["--import", "tsx", mainTs], {
      env: { ...process.env, AAT_DEPLOY_CONFIG: bad, CDKTF_OUTDIR: join(work, "never") },
    });
    const failure = await run.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /bad\.yaml:6:\d+ gcp\.queue\.maxDeliveryAttempts: Too small: expected number to be >=5/,
    );
  });

  it("refuses a worker timeout longer than the push ack deadline, a missing gcp section and stack-owned variables", () => {
    expect(() =>
      gcpConfig(
        `name: aat\nenvironment: dev\nsizes: { worker: { timeoutSeconds: 600 } }\ngcp: { project: my-aat-project, region: europe-west1 }\n`,
      ),
    ).toThrow(/gcp\.queue\.ackDeadlineSeconds: 300 s is less than sizes\.worker\.timeoutSeconds \(600 s\)/);
    expect(() => gcpConfig("name: aat\nenvironment: dev\n")).toThrow(DeployConfigError);
    expect(() =>
      gcpConfig(
        "name: aat\nenvironment: dev\ngcp:\n  project: my-aat-project\n  region: europe-west1\n  environment: { AAT_KV_KIND: memory, AAT_SECRET_X: y }\n",
      ),
    ).toThrow(
      /gcp\.environment\.AAT_KV_KIND: set by the stack[\s\S]*gcp\.environment\.AAT_SECRET_X: a secret value does not belong/,
    );
    expect(() => gcpConfig("name: aat\nenvironment: dev\n")).toThrow(
      /gcp: missing: deploying to gcp needs this section/,
    );
  });

  it("keeps generated names inside Google's limits", () => {
    const id = fitName("averyverylongname-staging-eu", "scheduler", 30);
    expect(id.length).toBeLessThanOrEqual(30);
    expect(id).toMatch(/^[a-z][a-z0-9-]*-scheduler$/);
    expect(fitName("aat-dev", "api", 30)).toBe("aat-dev-api");
  });
});
