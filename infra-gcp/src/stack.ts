import { randomBytes } from "node:crypto";
import { MODEL_KEY_ENV, resourcePrefix, webhookSecretEnv } from "@aat/infra-config";
// Provider classes by deep path: the package's barrel import loads every resource (about ten seconds).
import { CloudRunV2ServiceIamMember } from "@cdktf/provider-google/lib/cloud-run-v2-service-iam-member/index.js";
import { CloudSchedulerJob } from "@cdktf/provider-google/lib/cloud-scheduler-job/index.js";
import { Cloudfunctions2Function } from "@cdktf/provider-google/lib/cloudfunctions2-function/index.js";
import { ComputeBackendBucket } from "@cdktf/provider-google/lib/compute-backend-bucket/index.js";
import { ComputeGlobalAddress } from "@cdktf/provider-google/lib/compute-global-address/index.js";
import { ComputeGlobalForwardingRule } from "@cdktf/provider-google/lib/compute-global-forwarding-rule/index.js";
import { ComputeManagedSslCertificate } from "@cdktf/provider-google/lib/compute-managed-ssl-certificate/index.js";
import { ComputeNetwork } from "@cdktf/provider-google/lib/compute-network/index.js";
import { ComputeTargetHttpProxy } from "@cdktf/provider-google/lib/compute-target-http-proxy/index.js";
import { ComputeTargetHttpsProxy } from "@cdktf/provider-google/lib/compute-target-https-proxy/index.js";
import { ComputeUrlMap } from "@cdktf/provider-google/lib/compute-url-map/index.js";
import { DataGoogleProject } from "@cdktf/provider-google/lib/data-google-project/index.js";
import { ProjectService } from "@cdktf/provider-google/lib/project-service/index.js";
import { GoogleProvider } from "@cdktf/provider-google/lib/provider/index.js";
import { PubsubSubscription } from "@cdktf/provider-google/lib/pubsub-subscription/index.js";
import { PubsubSubscriptionIamMember } from "@cdktf/provider-google/lib/pubsub-subscription-iam-member/index.js";
import { PubsubTopic } from "@cdktf/provider-google/lib/pubsub-topic/index.js";
import { PubsubTopicIamMember } from "@cdktf/provider-google/lib/pubsub-topic-iam-member/index.js";
import { RedisInstance } from "@cdktf/provider-google/lib/redis-instance/index.js";
import { SecretManagerSecret } from "@cdktf/provider-google/lib/secret-manager-secret/index.js";
import { SecretManagerSecretIamMember } from "@cdktf/provider-google/lib/secret-manager-secret-iam-member/index.js";
import { SecretManagerSecretVersion } from "@cdktf/provider-google/lib/secret-manager-secret-version/index.js";
import { ServiceAccount } from "@cdktf/provider-google/lib/service-account/index.js";
import { ServiceAccountIamMember } from "@cdktf/provider-google/lib/service-account-iam-member/index.js";
import { StorageBucket } from "@cdktf/provider-google/lib/storage-bucket/index.js";
import { StorageBucketIamMember } from "@cdktf/provider-google/lib/storage-bucket-iam-member/index.js";
import { StorageBucketObject } from "@cdktf/provider-google/lib/storage-bucket-object/index.js";
import { VpcAccessConnector } from "@cdktf/provider-google/lib/vpc-access-connector/index.js";
import { AssetType, type ITerraformDependable, TerraformAsset, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { GcpDeployConfig } from "./config.js";
import { fitName } from "./names.js";
import { siteFiles } from "./site.js";
import type { GcpFunctionSources } from "./source.js";

export interface GcpStackProps {
  config: GcpDeployConfig;
  /** Each function's source folder (buildGcpSources): zipped into a Cloud Storage object per function. */
  functionSources: GcpFunctionSources;
  /** The built site (site/dist); required when `site` is true. */
  siteDir?: string;
}

/** Google APIs the stack uses; enabled by the stack and left enabled on destroy (other things may use them). */
const APIS = [
  "compute.googleapis.com",
  "cloudfunctions.googleapis.com",
  "run.googleapis.com",
  "cloudbuild.googleapis.com",
  "artifactregistry.googleapis.com",
  "pubsub.googleapis.com",
  "cloudscheduler.googleapis.com",
  "secretmanager.googleapis.com",
  "iam.googleapis.com",
  "storage.googleapis.com",
];
const MEMORYSTORE_APIS = ["redis.googleapis.com", "vpcaccess.googleapis.com"];

/** Secret Manager ids allow letters, digits, `_` and `-`; the deploy config also allows `.` and `/`. */
export function secretId(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "-");
}

/**
 * aat on Google Cloud: three Cloud Run functions (gen2), each from its own bundle — `api` (the HTTP API, public;
 * aat checks its own API keys), `steps` (step messages, pushed by a Pub/Sub subscription with an OIDC
 * token) and `schedules` (fired every minute by Cloud Scheduler with an OIDC token) — the step topic with
 * its dead-letter topic, Secret Manager secrets, the site bucket and, for `kv.kind: memorystore`,
 * Memorystore for Redis behind a Serverless VPC Access connector. Each function runs as its own service
 * account holding only roles bound to the topics, subscriptions and secrets it uses.
 */
export class GcpStack extends TerraformStack {
  readonly prefix: string;
  readonly topicName: string;

  constructor(scope: Construct, id: string, props: GcpStackProps) {
    super(scope, id);
    const { config, functionSources } = props;
    const { project, region, queue, kv } = config.gcp;
    const prefix = resourcePrefix(config);
    this.prefix = prefix;
    const labels = { app: "aat", "aat-name": config.name, "aat-environment": config.environment };

    new GoogleProvider(this, "google", { project, region });
    const projectInfo = new DataGoogleProject(this, "project", { projectId: project });
    const apis = [...APIS, ...(kv.kind === "memorystore" ? MEMORYSTORE_APIS : [])].map(
      (service) =>
        new ProjectService(this, `api-${service.split(".")[0]}`, {
          project,
          service,
          disableOnDestroy: false,
        }),
    );

    // --- identities: one per job, nothing granted project-wide but the create-if-missing role below.
    const account = (name: string, what: string) =>
      new ServiceAccount(this, `sa-${name}`, {
        accountId: fitName(prefix, name, 30),
        displayName: `aat ${config.environment}: ${what}`,
        dependsOn: apis,
      });
    const apiSa = account("api", "API and schedules functions");
    const workerSa = account("worker", "steps function (Pub/Sub push)");
    const pushSa = account("push", "Pub/Sub push identity invoking the steps function");
    const schedulerSa = account("scheduler", "Cloud Scheduler identity invoking the schedules function");
    const runtimeSas = { api: apiSa, worker: workerSa };
    const pubsubAgent = `serviceAccount:service-${projectInfo.number}@gcp-sa-pubsub.iam.gserviceaccount.com`;

    // --- queue: the step topic, its dead-letter topic `<topic>-dead` (the name the Pub/Sub adapter and
    // functions/gcp dead-letter to), the push subscription to the steps function, and the two
    // subscriptions the adapter opens at start: `<topic>-work` (pull) and `<topic>-dead-store` (dead letters).
    const topicName = `${prefix}-steps`;
    this.topicName = topicName;
    const topic = new PubsubTopic(this, "steps-topic", { name: topicName, labels, dependsOn: apis });
    const deadTopic = new PubsubTopic(this, "steps-dead-topic", {
      name: `${topicName}-dead`,
      labels,
      dependsOn: apis,
    });
    const workSubscription = new PubsubSubscription(this, "steps-work", {
      name: `${topicName}-work`,
      topic: topic.id,
      ackDeadlineSeconds: queue.ackDeadlineSeconds,
      // Nothing pulls it while the push subscription delivers; keep its copies only briefly.
      messageRetentionDuration: "600s",
      expirationPolicy: { ttl: "" },
      labels,
    });
    const deadStore = new PubsubSubscription(this, "steps-dead-store", {
      name: `${topicName}-dead-store`,
      topic: deadTopic.id,
      messageRetentionDuration: "604800s",
      expirationPolicy: { ttl: "" },
      labels,
    });

    // The stack owns the topics and subscriptions (AAT_PUBSUB_PROVISION=false below): the runtime
    // accounts create nothing, so they hold roles on these resources only, none on the project.
    for (const [name, sa] of Object.entries(runtimeSas)) {
      for (const [topicId, t] of Object.entries({ steps: topic, dead: deadTopic })) {
        // publisher: publish steps and dead letters; viewer: the readiness ping (topic metadata).
        for (const role of ["roles/pubsub.publisher", "roles/pubsub.viewer"]) {
          new PubsubTopicIamMember(this, `${name}-${topicId}-${role.split(".")[1]}`, {
            topic: t.name,
            role,
            member: sa.member,
          });
        }
      }
      for (const [subId, s] of Object.entries({ work: workSubscription, "dead-store": deadStore })) {
        new PubsubSubscriptionIamMember(this, `${name}-${subId}-subscriber`, {
          subscription: s.name,
          role: "roles/pubsub.subscriber",
          member: sa.member,
        });
      }
    }

    // --- secrets: names from the deploy config, values set by operators (a new version). Each starts
    // with a random placeholder so the functions deploy (Cloud Run refuses a secret without a version)
    // and nothing is signed or accepted with a value anyone knows.
    const secrets: Array<{ env: string; secret: SecretManagerSecret }> = [];
    // Cloud Run checks at deploy that the runtime account can read each secret version it names.
    const secretGrants: ITerraformDependable[] = [];
    const secret = (name: string, env: string, value?: string) => {
      const id = secretId(name);
      const created = new SecretManagerSecret(this, `secret-${id}`, {
        secretId: id,
        replication: { auto: {} },
        labels,
        dependsOn: apis,
      });
      const version = new SecretManagerSecretVersion(this, `secret-${id}-initial`, {
        secret: created.id,
        secretData: value ?? `unset-${randomBytes(24).toString("hex")}`,
        ...(value === undefined ? { lifecycle: { ignoreChanges: ["secret_data"] } } : {}),
      });
      secretGrants.push(version);
      for (const [sa, who] of Object.entries(runtimeSas)) {
        secretGrants.push(
          new SecretManagerSecretIamMember(this, `secret-${id}-${sa}`, {
            secretId: created.id,
            role: "roles/secretmanager.secretAccessor",
            member: who.member,
          }),
        );
      }
      secrets.push({ env, secret: created });
      return created;
    };
    for (const [provider, name] of Object.entries(config.modelSecrets)) {
      secret(name, MODEL_KEY_ENV[provider as keyof typeof MODEL_KEY_ENV]);
    }
    for (const name of config.webhookSecrets) secret(name, webhookSecretEnv(name));
    secret(`${prefix}-admin-key`, "AAT_AUTH_BOOTSTRAP_ADMIN_KEY");

    const env: Record<string, string> = {
      // Plans are published through the API (`aat plans publish`), not read from the function's disk.
      AAT_PLANS_DIRS: "[]",
      AAT_AUTH_MODE: "apiKey",
      AAT_SERVICE_NAME: `aat-${config.environment}`,
      // Operator settings (checkGcpConfig refuses the variables below and secret values).
      ...config.gcp.environment,
      AAT_QUEUE_KIND: "pubsub",
      AAT_PUBSUB_PROJECT_ID: project,
      AAT_PUBSUB_TOPIC: topicName,
      AAT_PUBSUB_SUBSCRIPTION: `${topicName}-work`,
      AAT_PUBSUB_PROVISION: "false",
    };
    let network: { connector: VpcAccessConnector } | undefined;
    if (kv.kind === "upstash") {
      env.AAT_KV_KIND = "upstash";
      // A function's environment takes a whole secret per variable: URL and token are two secrets.
      secret(`${kv.secret}-url`, "AAT_UPSTASH_URL");
      secret(`${kv.secret}-token`, "AAT_UPSTASH_TOKEN");
    } else {
      env.AAT_KV_KIND = "redis";
      const vpc = new ComputeNetwork(this, "vpc", {
        name: fitName(prefix, "vpc", 63),
        autoCreateSubnetworks: false,
        dependsOn: apis,
      });
      const connector = new VpcAccessConnector(this, "vpc-connector", {
        name: fitName(prefix, "conn", 25),
        region,
        network: vpc.name,
        ipCidrRange: kv.connectorCidr,
        minInstances: 2,
        maxInstances: 3,
        dependsOn: apis,
      });
      const redis = new RedisInstance(this, "memorystore", {
        name: fitName(prefix, "kv", 40),
        region,
        tier: "BASIC",
        memorySizeGb: kv.memorySizeGb,
        redisVersion: "REDIS_7_2",
        authorizedNetwork: vpc.id,
        connectMode: "DIRECT_PEERING",
        authEnabled: true,
        labels,
        dependsOn: apis,
      });
      // The URL carries the AUTH string, so it reaches the functions as a secret, not a plain variable.
      secret(
        `${prefix}-redis-url`,
        "AAT_REDIS_URL",
        `redis://:${redis.authString}@${redis.host}:${redis.port}/0`,
      );
      network = { connector };
    }

    // --- the functions' sources: the real bundles, zipped at synth.
    const sourceBucket = new StorageBucket(this, "functions-bucket", {
      name: fitName(`${project}-${prefix}`, "functions", 63),
      location: region,
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      forceDestroy: true,
      labels,
      dependsOn: apis,
    });
    // One object per function, named by its content hash: a changed bundle is a new object and a new build.
    const sourceObjects = Object.fromEntries(
      Object.entries(functionSources).map(([name, dir]) => {
        const asset = new TerraformAsset(this, `functions-source-${name}`, {
          path: dir,
          type: AssetType.ARCHIVE,
        });
        return [
          name,
          new StorageBucketObject(this, `functions-source-${name}-object`, {
            bucket: sourceBucket.name,
            name: `functions/${name}/${asset.assetHash}.zip`,
            source: asset.path,
          }),
        ];
      }),
    ) as Record<keyof GcpFunctionSources, StorageBucketObject>;

    // The site's address comes first: the API lists the site's origin for CORS.
    const siteAddress = config.site
      ? new ComputeGlobalAddress(this, "site-address", {
          name: fitName(prefix, "site-ip", 63),
          dependsOn: apis,
        })
      : undefined;
    const siteOrigin = config.domain
      ? `https://${config.domain}`
      : siteAddress && `http://${siteAddress.address}`;
    const fn = (
      name: "api" | "steps" | "schedules",
      size: (typeof config.sizes)["api"],
      serviceAccount: ServiceAccount,
    ) =>
      new Cloudfunctions2Function(this, `function-${name}`, {
        name: `${prefix}-${name}`,
        location: region,
        description: `aat ${config.environment}: ${name}`,
        labels,
        buildConfig: {
          runtime: "nodejs22",
          entryPoint: name,
          source: { storageSource: { bucket: sourceBucket.name, object: sourceObjects[name].name } },
        },
        serviceConfig: {
          availableMemory: `${size.memoryMb}Mi`,
          // One whole CPU (more than one request per instance needs it); more memory needs more CPUs.
          availableCpu: size.memoryMb > 8192 ? "4" : size.memoryMb > 4096 ? "2" : "1",
          timeoutSeconds: size.timeoutSeconds,
          maxInstanceCount: size.maxInstances,
          maxInstanceRequestConcurrency: size.concurrency,
          serviceAccountEmail: serviceAccount.email,
          ingressSettings: "ALLOW_ALL",
          allTrafficOnLatestRevision: true,
          environmentVariables: {
            ...env,
            // The site calls the API from its own origin (the load balancer).
            ...(name === "api" && siteOrigin ? { AAT_SERVER_CORS_ORIGINS: siteOrigin } : {}),
          },
          secretEnvironmentVariables: secrets.map(({ env: key, secret: s }) => ({
            key,
            projectId: project,
            secret: s.secretId,
            version: "latest",
          })),
          ...(network
            ? { vpcConnector: network.connector.id, vpcConnectorEgressSettings: "PRIVATE_RANGES_ONLY" }
            : {}),
        },
        dependsOn: [...apis, ...secretGrants],
      });
    const api = fn("api", config.sizes.api, apiSa);
    const steps = fn("steps", config.sizes.worker, workerSa);
    const schedules = fn("schedules", config.sizes.api, apiSa);

    const invoker = (id: string, f: Cloudfunctions2Function, member: string) =>
      new CloudRunV2ServiceIamMember(this, id, {
        project,
        location: region,
        name: f.name,
        role: "roles/run.invoker",
        member,
      });
    // The API is public at the network level: aat authenticates every call itself (API keys, OIDC).
    invoker("api-invoker-public", api, "allUsers");
    invoker("steps-invoker-push", steps, pushSa.member);
    invoker("schedules-invoker-scheduler", schedules, schedulerSa.member);

    // --- push: OIDC token of the push identity for the steps function's URL; retries with backoff,
    // dead letters after maxDeliveryAttempts. The path is the topic: the Functions Framework reads a raw
    // push body there and hands the CloudEvent function a messagePublished event.
    const stepsUrl = steps.serviceConfig.uri;
    const push = new PubsubSubscription(this, "steps-push", {
      name: `${topicName}-push`,
      topic: topic.id,
      ackDeadlineSeconds: queue.ackDeadlineSeconds,
      messageRetentionDuration: "604800s",
      expirationPolicy: { ttl: "" },
      pushConfig: {
        pushEndpoint: `${stepsUrl}/projects/${project}/topics/${topicName}`,
        oidcToken: { serviceAccountEmail: pushSa.email, audience: stepsUrl },
      },
      deadLetterPolicy: { deadLetterTopic: deadTopic.id, maxDeliveryAttempts: queue.maxDeliveryAttempts },
      retryPolicy: {
        minimumBackoff: `${queue.minimumBackoffSeconds}s`,
        maximumBackoff: `${queue.maximumBackoffSeconds}s`,
      },
      labels,
    });
    // Pub/Sub's own service agent forwards dead letters and mints the push identity's tokens.
    new PubsubTopicIamMember(this, "pubsub-agent-dead-publisher", {
      topic: deadTopic.name,
      role: "roles/pubsub.publisher",
      member: pubsubAgent,
    });
    new PubsubSubscriptionIamMember(this, "pubsub-agent-push-subscriber", {
      subscription: push.name,
      role: "roles/pubsub.subscriber",
      member: pubsubAgent,
    });
    new ServiceAccountIamMember(this, "pubsub-agent-push-token", {
      serviceAccountId: pushSa.name,
      role: "roles/iam.serviceAccountTokenCreator",
      member: pubsubAgent,
    });

    // --- schedules: every minute the schedules function fires the plans' due schedule triggers.
    const schedulesUrl = schedules.serviceConfig.uri;
    new CloudSchedulerJob(this, "schedules-job", {
      name: `${prefix}-schedules`,
      region,
      description: "aat: fire the plans' due schedule triggers",
      schedule: "* * * * *",
      timeZone: "Etc/UTC",
      attemptDeadline: "60s",
      retryConfig: { retryCount: 0 },
      httpTarget: {
        uri: schedulesUrl,
        httpMethod: "POST",
        oidcToken: { serviceAccountEmail: schedulerSa.email, audience: schedulesUrl },
      },
      dependsOn: apis,
    });

    // --- site: the built pages in a public bucket, with /config.json pointing at the API, served at the
    // root of an origin (the pages fetch /config.json) by a global external load balancer: HTTPS with a
    // Google-managed certificate for `domain`, or plain HTTP on the load balancer's address without one.
    if (siteAddress) {
      if (!props.siteDir)
        throw new Error("GcpStack: site is true but no siteDir was given (the built site/dist)");
      const siteBucket = new StorageBucket(this, "site-bucket", {
        name: fitName(`${project}-${prefix}`, "site", 63),
        location: region,
        uniformBucketLevelAccess: true,
        website: { mainPageSuffix: "index.html", notFoundPage: "index.html" },
        forceDestroy: true,
        labels,
        dependsOn: apis,
      });
      new StorageBucketIamMember(this, "site-public-read", {
        bucket: siteBucket.name,
        role: "roles/storage.objectViewer",
        member: "allUsers",
      });
      for (const file of siteFiles(props.siteDir)) {
        if (file.key === "config.json") continue;
        const fileAsset = new TerraformAsset(this, `site-asset-${file.id}`, {
          path: file.path,
          type: AssetType.FILE,
        });
        new StorageBucketObject(this, `site-${file.id}`, {
          bucket: siteBucket.name,
          name: file.key,
          source: fileAsset.path,
          contentType: file.contentType,
        });
      }
      new StorageBucketObject(this, "site-config", {
        bucket: siteBucket.name,
        name: "config.json",
        content: JSON.stringify({ apiBaseUrl: api.serviceConfig.uri, auth: { mode: "apiKey" } }),
        contentType: "application/json",
        cacheControl: "no-store",
      });
      const backend = new ComputeBackendBucket(this, "site-backend", {
        name: fitName(prefix, "site", 63),
        bucketName: siteBucket.name,
        enableCdn: true,
      });
      const urlMap = new ComputeUrlMap(this, "site-url-map", {
        name: fitName(prefix, "site", 63),
        defaultService: backend.id,
      });
      let target: string;
      if (config.domain) {
        const certificate = new ComputeManagedSslCertificate(this, "site-certificate", {
          name: fitName(prefix, "site-cert", 63),
          managed: { domains: [config.domain] },
          dependsOn: apis,
        });
        target = new ComputeTargetHttpsProxy(this, "site-proxy", {
          name: fitName(prefix, "site", 63),
          urlMap: urlMap.id,
          sslCertificates: [certificate.id],
        }).id;
      } else {
        target = new ComputeTargetHttpProxy(this, "site-proxy", {
          name: fitName(prefix, "site", 63),
          urlMap: urlMap.id,
        }).id;
      }
      new ComputeGlobalForwardingRule(this, "site-forwarding", {
        name: fitName(prefix, "site", 63),
        target,
        ipAddress: siteAddress.address,
        portRange: config.domain ? "443" : "80",
        loadBalancingScheme: "EXTERNAL_MANAGED",
        labels,
      });
      new TerraformOutput(this, "site_bucket", { value: siteBucket.name });
      new TerraformOutput(this, "site_ip", { value: siteAddress.address });
      new TerraformOutput(this, "site_url", {
        value: config.domain ? `https://${config.domain}/` : `http://${siteAddress.address}/`,
      });
    }

    new TerraformOutput(this, "api_url", { value: api.serviceConfig.uri });
    new TerraformOutput(this, "steps_topic", { value: topic.id });
    new TerraformOutput(this, "dead_letter_subscription", { value: deadStore.id });
    new TerraformOutput(this, "admin_key_secret", { value: `${prefix}-admin-key` });
  }
}
