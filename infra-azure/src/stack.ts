import { randomBytes } from "node:crypto";
import { MODEL_KEY_ENV, resourcePrefix, webhookSecretEnv } from "@aat/infra-config";
// Provider classes by deep path: the package's barrel import loads every resource (about ten seconds).
import { ApplicationInsights } from "@cdktf/provider-azurerm/lib/application-insights/index.js";
import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config/index.js";
import { FunctionAppFlexConsumption } from "@cdktf/provider-azurerm/lib/function-app-flex-consumption/index.js";
import { KeyVault } from "@cdktf/provider-azurerm/lib/key-vault/index.js";
import { KeyVaultSecret } from "@cdktf/provider-azurerm/lib/key-vault-secret/index.js";
import { LogAnalyticsWorkspace } from "@cdktf/provider-azurerm/lib/log-analytics-workspace/index.js";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider/index.js";
import { RedisCache } from "@cdktf/provider-azurerm/lib/redis-cache/index.js";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group/index.js";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment/index.js";
import { ServicePlan } from "@cdktf/provider-azurerm/lib/service-plan/index.js";
import { ServicebusNamespace } from "@cdktf/provider-azurerm/lib/servicebus-namespace/index.js";
import { ServicebusQueue } from "@cdktf/provider-azurerm/lib/servicebus-queue/index.js";
import { ServicebusQueueAuthorizationRule } from "@cdktf/provider-azurerm/lib/servicebus-queue-authorization-rule/index.js";
import { StaticWebApp } from "@cdktf/provider-azurerm/lib/static-web-app/index.js";
import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account/index.js";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container/index.js";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity/index.js";
import {
  AssetType,
  Fn,
  type ITerraformDependable,
  TerraformAsset,
  TerraformOutput,
  TerraformStack,
} from "cdktf";
import type { Construct } from "constructs";
import type { AzureDeployConfig } from "./config.js";
import { fitName, hostTimeSpan, isoDuration, keyVaultSecretName } from "./names.js";

export interface AzureStackProps {
  config: AzureDeployConfig;
  /** Folder holding the Function App package (buildAzureSource): zipped and deployed with zip deploy. */
  functionSource: string;
}

/** Regions Static Web Apps runs in (the site is global; this is where its metadata lives). */
const STATIC_WEB_APP_REGIONS = ["westus2", "centralus", "eastus2", "westeurope", "eastasia"];
/** Memory sizes a Flex Consumption instance comes in. */
const FLEX_MEMORY_MB = [512, 2048, 4096];
/** Flex Consumption scales one app to at least 40 instances at most (Azure's lower bound for the limit). */
const FLEX_MIN_MAXIMUM_INSTANCES = 40;

/** Built-in role names assigned below (Azure RBAC). */
export const ROLES = {
  sender: "Azure Service Bus Data Sender",
  receiver: "Azure Service Bus Data Receiver",
  secretsUser: "Key Vault Secrets User",
  secretsOfficer: "Key Vault Secrets Officer",
  blobOwner: "Storage Blob Data Owner",
} as const;

/**
 * aat on Azure: one Linux Function App on Flex Consumption (Node 22) holding the functions/azure
 * functions — `api` (app.http), `steps` (app.serviceBusQueue) and `schedules` (app.timer) — with the
 * Service Bus step queue (duplicate detection, dead-lettering after maxDeliveryCount), a storage account
 * for the host and deployments, Key Vault for every secret (app settings are Key Vault references),
 * Application Insights, a Static Web App for the site, a user-assigned managed identity with role
 * assignments scoped to the queue, the vault and the storage account, and Azure Cache for Redis when
 * `kv.kind` is azure-redis.
 */
export class AzureStack extends TerraformStack {
  readonly prefix: string;

  constructor(scope: Construct, id: string, props: AzureStackProps) {
    super(scope, id);
    const { config, functionSource } = props;
    const { location, queue, kv } = config.azure;
    const prefix = resourcePrefix(config);
    this.prefix = prefix;
    const tags = { app: "aat", "aat-name": config.name, "aat-environment": config.environment };

    new AzurermProvider(this, "azurerm", { features: [{}] });
    const client = new DataAzurermClientConfig(this, "client", {});
    const group = new ResourceGroup(this, "group", {
      name: config.azure.resourceGroup ?? `${prefix}-rg`,
      location,
      tags,
    });
    // Globally unique names (vault, storage, namespace, app, cache) end in 6 characters derived from the
    // resource group's id, which holds the subscription id: stable per deployment, distinct across tenants.
    const unique = Fn.substr(Fn.sha1(group.id), 0, 6);
    const at = { resourceGroupName: group.name, location, tags };

    // --- monitoring
    const logs = new LogAnalyticsWorkspace(this, "logs", {
      ...at,
      name: `${prefix}-logs`,
      sku: "PerGB2018",
      retentionInDays: 30,
    });
    const insights = new ApplicationInsights(this, "insights", {
      ...at,
      name: `${prefix}-insights`,
      applicationType: "Node.JS",
      workspaceId: logs.id,
    });

    // --- identity: the user-assigned identity the app runs as (storage, Service Bus); the vault's
    // secrets are read by the app's system identity, which Key Vault references use.
    const identity = new UserAssignedIdentity(this, "identity", { ...at, name: `${prefix}-identity` });
    const grants: ITerraformDependable[] = [];
    const grant = (id: string, role: string, scope: string, principalId: string) => {
      const assignment = new RoleAssignment(this, id, {
        scope,
        roleDefinitionName: role,
        principalId,
        principalType: "ServicePrincipal",
      });
      grants.push(assignment);
      return assignment;
    };

    // --- storage: the Functions host's state (timer leases) and the deployment container, by identity.
    const storage = new StorageAccount(this, "storage", {
      ...at,
      name: `${prefix.replace(/[^a-z0-9]/g, "").slice(0, 18)}${unique}`,
      accountTier: "Standard",
      accountReplicationType: "LRS",
      minTlsVersion: "TLS1_2",
      allowNestedItemsToBePublic: false,
    });
    const deployments = new StorageContainer(this, "deployments", {
      name: "deployments",
      storageAccountId: storage.id,
      containerAccessType: "private",
    });
    grant("identity-storage", ROLES.blobOwner, storage.id, identity.principalId);

    // --- queue: duplicate detection on messageId (the adapter sends the dedupe id as messageId),
    // dead-lettering after maxDeliveryCount. No sessions: functions/azure sends without a sessionId and
    // its trigger is not session-enabled, and a session queue refuses such messages.
    const namespace = new ServicebusNamespace(this, "servicebus", {
      ...at,
      name: `${fitName(prefix, "sb", 40)}-${unique}`,
      sku: "Standard",
      minimumTlsVersion: "1.2",
    });
    const queueName = "aat-steps";
    const steps = new ServicebusQueue(this, "steps-queue", {
      name: queueName,
      namespaceId: namespace.id,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: isoDuration(queue.duplicateDetectionMinutes * 60),
      requiresSession: false,
      maxDeliveryCount: queue.maxDeliveryCount,
      lockDuration: isoDuration(queue.lockDurationSeconds),
      deadLetteringOnMessageExpiration: true,
    });
    // The step queue's own shared access rule (send and listen, no manage): functions/azure's Service
    // Bus client and trigger connect with a connection string, not with the identity.
    const queueRule = new ServicebusQueueAuthorizationRule(this, "steps-queue-rule", {
      name: `${prefix}-functions`,
      queueId: steps.id,
      send: true,
      listen: true,
      manage: false,
    });
    grant("identity-queue-sender", ROLES.sender, steps.id, identity.principalId);
    grant("identity-queue-receiver", ROLES.receiver, steps.id, identity.principalId);

    // --- secrets: Key Vault with RBAC; the deploying principal may write secrets, the app may read.
    const vault = new KeyVault(this, "vault", {
      ...at,
      name: `${prefix.slice(0, 13).replace(/-+$/, "")}-kv-${unique}`,
      tenantId: client.tenantId,
      skuName: "standard",
      rbacAuthorizationEnabled: true,
      softDeleteRetentionDays: 7,
      purgeProtectionEnabled: false,
    });
    const officer = new RoleAssignment(this, "deployer-vault-officer", {
      scope: vault.id,
      roleDefinitionName: ROLES.secretsOfficer,
      principalId: client.objectId,
    });
    grant("identity-vault-reader", ROLES.secretsUser, vault.id, identity.principalId);

    const appSettings: Record<string, string> = {};
    const secret = (name: string, env: string, value?: string) => {
      const secretName = keyVaultSecretName(name);
      const created = new KeyVaultSecret(this, `secret-${secretName}`, {
        name: secretName,
        keyVaultId: vault.id,
        // Operators set the real value (a new version); a random placeholder until then, so nothing is
        // signed or accepted with a value anyone knows.
        value: value ?? `unset-${randomBytes(24).toString("hex")}`,
        ...(value === undefined ? { lifecycle: { ignoreChanges: ["value"] } } : {}),
        dependsOn: [officer],
      });
      appSettings[env] = `@Microsoft.KeyVault(SecretUri=${created.versionlessId})`;
      return created;
    };
    for (const [provider, name] of Object.entries(config.modelSecrets)) {
      secret(name, MODEL_KEY_ENV[provider as keyof typeof MODEL_KEY_ENV]);
    }
    for (const name of config.webhookSecrets) secret(name, webhookSecretEnv(name));
    secret(`${prefix}-admin-key`, "AAT_AUTH_BOOTSTRAP_ADMIN_KEY");
    secret(`${prefix}-servicebus`, "AAT_SERVICEBUS_CONNECTION_STRING", queueRule.primaryConnectionString);

    if (kv.kind === "upstash") {
      appSettings.AAT_KV_KIND = "upstash";
      // An app setting takes a whole secret: URL and token are two secrets.
      secret(`${kv.secret}-url`, "AAT_UPSTASH_URL");
      secret(`${kv.secret}-token`, "AAT_UPSTASH_TOKEN");
    } else {
      appSettings.AAT_KV_KIND = "redis";
      const redis = new RedisCache(this, "redis", {
        ...at,
        name: `${fitName(prefix, "redis", 50)}-${unique}`,
        skuName: kv.sku,
        family: kv.sku === "Premium" ? "P" : "C",
        capacity: kv.capacity,
        nonSslPortEnabled: false,
        minimumTlsVersion: "1.2",
        redisVersion: "6",
      });
      secret(
        `${prefix}-redis-url`,
        "AAT_REDIS_URL",
        `rediss://:${redis.primaryAccessKey}@${redis.hostname}:${redis.sslPort}/0`,
      );
    }

    // --- site: a Static Web App; its content is uploaded with the SWA CLI (docs/deploy-azure.md).
    let siteOrigin: string | undefined;
    if (config.site) {
      const site = new StaticWebApp(this, "site", {
        resourceGroupName: group.name,
        location: STATIC_WEB_APP_REGIONS.includes(location) ? location : "westeurope",
        name: `${prefix}-site`,
        skuTier: "Free",
        skuSize: "Free",
        tags,
      });
      siteOrigin = config.domain ? `https://${config.domain}` : `https://${site.defaultHostName}`;
      new TerraformOutput(this, "site_url", { value: `https://${site.defaultHostName}` });
      new TerraformOutput(this, "site_deployment_token", { value: site.apiKey, sensitive: true });
    }

    // --- the Function App: Flex Consumption, Node 22, the real functions/azure package by zip deploy.
    const asset = new TerraformAsset(this, "functions-source", {
      path: functionSource,
      type: AssetType.ARCHIVE,
    });
    const plan = new ServicePlan(this, "plan", {
      ...at,
      name: `${prefix}-plan`,
      osType: "Linux",
      skuName: "FC1",
    });
    const memory = Math.max(config.sizes.api.memoryMb, config.sizes.worker.memoryMb);
    const timeout = Math.max(config.sizes.api.timeoutSeconds, config.sizes.worker.timeoutSeconds);
    const app = new FunctionAppFlexConsumption(this, "function-app", {
      ...at,
      name: `${fitName(prefix, "func", 50)}-${unique}`,
      servicePlanId: plan.id,
      runtimeName: "node",
      runtimeVersion: "22",
      instanceMemoryInMb: FLEX_MEMORY_MB.find((mb) => mb >= memory) ?? 4096,
      maximumInstanceCount: Math.max(
        FLEX_MIN_MAXIMUM_INSTANCES,
        config.sizes.api.maxInstances,
        config.sizes.worker.maxInstances,
      ),
      httpConcurrency: config.sizes.api.concurrency,
      storageContainerType: "blobContainer",
      storageContainerEndpoint: `${storage.primaryBlobEndpoint}${deployments.name}`,
      storageAuthenticationType: "UserAssignedIdentity",
      storageUserAssignedIdentityId: identity.id,
      zipDeployFile: asset.path,
      httpsOnly: true,
      identity: { type: "SystemAssigned, UserAssigned", identityIds: [identity.id] },
      siteConfig: { applicationInsightsConnectionString: insights.connectionString },
      appSettings: {
        // The host's own storage, by identity.
        AzureWebJobsStorage__accountName: storage.name,
        AzureWebJobsStorage__credential: "managedidentity",
        AzureWebJobsStorage__clientId: identity.clientId,
        // host.json settings the deploy config sizes.
        AzureFunctionsJobHost__functionTimeout: hostTimeSpan(timeout),
        AzureFunctionsJobHost__extensions__serviceBus__maxConcurrentCalls: String(
          config.sizes.worker.concurrency,
        ),
        AAT_AZURE_TIMER_SCHEDULE: "0 * * * * *",
        AAT_AUTH_MODE: "apiKey",
        // Plans are published through the API (`aat plans publish`), not read from the app's disk.
        AAT_PLANS_DIRS: "[]",
        AAT_SERVICE_NAME: `aat-${config.environment}`,
        // Operator settings (checkAzureConfig refuses the settings below and secret values).
        ...config.azure.environment,
        AAT_QUEUE_KIND: "servicebus",
        AAT_SERVICEBUS_QUEUE: queueName,
        ...(siteOrigin ? { AAT_SERVER_CORS_ORIGINS: siteOrigin } : {}),
        ...appSettings,
      },
      dependsOn: grants,
    });
    // Key Vault references resolve with the app's system identity.
    new RoleAssignment(this, "app-vault-reader", {
      scope: vault.id,
      roleDefinitionName: ROLES.secretsUser,
      principalId: app.identity.principalId,
      principalType: "ServicePrincipal",
    });

    new TerraformOutput(this, "api_url", { value: `https://${app.defaultHostname}` });
    new TerraformOutput(this, "function_app", { value: app.name });
    new TerraformOutput(this, "resource_group", { value: group.name });
    new TerraformOutput(this, "key_vault", { value: vault.name });
    new TerraformOutput(this, "servicebus_namespace", { value: namespace.name });
    new TerraformOutput(this, "admin_key_secret", { value: keyVaultSecretName(`${prefix}-admin-key`) });
  }
}
