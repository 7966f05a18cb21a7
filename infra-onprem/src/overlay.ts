import {
  type DeployConfig,
  DeployConfigError,
  forTarget,
  type OnpremDeploy,
  resourcePrefix,
} from "@aat/infra-config";
import { stringify } from "yaml";

/**
 * The overlay `npm run synth:onprem` writes from deploy.config.yaml: a kustomization on top of the static
 * base and one worker-feed component, with the config's namespace, image, names, sizes, queue and KV, so
 * `kubectl apply -k infra-onprem/generated` deploys exactly what the file says. Only JSON patches and
 * generators are used: kustomize knows no Knative or KEDA schema, so strategic merges would replace lists.
 */

/** Files of the generated overlay, by name relative to its folder. */
export type OverlayFiles = Record<string, string>;

export interface OverlayOptions {
  /** Path from the overlay's folder to infra-onprem/ (default "..": the overlay is infra-onprem/generated). */
  bundleRoot?: string;
  /** Names the deploy config file in errors. */
  file?: string;
}

/** The workloads running the aat image, and where their first container sits. */
const AAT_WORKLOADS = {
  api: { group: "serving.knative.dev", kind: "Service", name: "aat-api" },
  workerKnative: { group: "serving.knative.dev", kind: "Service", name: "aat-worker" },
  workerDeployment: { group: "apps", kind: "Deployment", name: "aat-worker" },
  bridge: { group: "sources.knative.dev", kind: "ContainerSource", name: "aat-step-bridge" },
} as const;
const CONTAINER = "/spec/template/spec/containers/0";
/** Index of AAT_REDIS_URL in every aat container's env (base/api.yaml and the components keep this order). */
const REDIS_URL_ENV_INDEX = 2;
/** The secret the generator writes for URLs from the deploy config (they may carry passwords). */
const DEPLOY_SECRET = "aat-deploy-secrets";

type Target = { group: string; kind: string; name: string };
type Op = { op: "add" | "replace" | "remove" | "test"; path: string; value?: unknown };

/** Builds the overlay's files; a config the bundle cannot honour fails with the key and the reason. */
export function generateOverlay(config: DeployConfig, options: OverlayOptions = {}): OverlayFiles {
  const file = options.file ?? "deploy.config.yaml";
  const full = forTarget(config, "onprem", file);
  const onprem: OnpremDeploy = full.onprem;
  const root = options.bundleRoot ?? "..";
  const prefix = resourcePrefix(config);
  const stream = prefix.toUpperCase().replaceAll("-", "_");
  const image = parseImage(onprem.image, file);
  const feed = onprem.workerFeed;
  const workers =
    feed === "keda"
      ? [AAT_WORKLOADS.api, AAT_WORKLOADS.workerDeployment]
      : [AAT_WORKLOADS.api, AAT_WORKLOADS.workerKnative, AAT_WORKLOADS.bridge];
  const { api, worker } = config.sizes;

  const settings: Record<string, string> = {
    AAT_REDIS_KEY_PREFIX: prefix,
    AAT_LIMITS_MAX_CONCURRENT_STEPS: String(worker.concurrency),
    AAT_SERVER_PUBLIC_URL: `https://${onprem.ingressHost}`,
    AAT_SERVICE_NAME: prefix,
  };
  const secrets: Record<string, string> = {};
  const patches: Array<{ target: Target; ops: Op[] }> = [];
  const deletions: Array<{ apiVersion: string; kind: string; name: string }> = [];
  const egressPorts: number[] = [];

  if (onprem.queue.kind === "nats") {
    settings.AAT_QUEUE_KIND = "nats";
    settings.AAT_NATS_STREAM = stream;
    settings.AAT_NATS_SUBJECT_PREFIX = prefix;
    if (onprem.queue.url) {
      settings.AAT_NATS_SERVERS = onprem.queue.url;
      deletions.push(...bundledServer("nats"));
      egressPorts.push(portOf(onprem.queue.url, 4222));
    }
  } else {
    settings.AAT_QUEUE_KIND = "rabbitmq";
    settings.AAT_RABBITMQ_QUEUE = `${prefix}-steps`;
    secrets.AAT_RABBITMQ_URL = onprem.queue.url;
    deletions.push(...bundledServer("nats"));
    egressPorts.push(portOf(onprem.queue.url, onprem.queue.url.startsWith("amqps:") ? 5671 : 5672));
  }
  if (onprem.kv.url) {
    secrets.AAT_REDIS_URL = onprem.kv.url;
    deletions.push(...bundledServer("redis"));
    egressPorts.push(portOf(onprem.kv.url, 6379));
    for (const target of workers) {
      patches.push({
        target,
        ops: [
          { op: "test", path: `${CONTAINER}/env/${REDIS_URL_ENV_INDEX}/name`, value: "AAT_REDIS_URL" },
          {
            op: "replace",
            path: `${CONTAINER}/env/${REDIS_URL_ENV_INDEX}`,
            value: {
              name: "AAT_REDIS_URL",
              valueFrom: { secretKeyRef: { name: DEPLOY_SECRET, key: "AAT_REDIS_URL" } },
            },
          },
        ],
      });
    }
  }
  // Model provider keys and webhook secrets: Secrets the operator creates, whose keys become env vars.
  const extraEnv = [
    ...Object.entries(config.modelSecrets).map(([provider, name]) =>
      kubernetesSecretName(name, `modelSecrets.${provider}`, file),
    ),
    ...config.webhookSecrets.map((name, index) =>
      kubernetesSecretName(name, `webhookSecrets.${index}`, file),
    ),
    ...(secrets.AAT_RABBITMQ_URL ? [DEPLOY_SECRET] : []),
  ];
  if (extraEnv.length > 0) {
    for (const target of workers) {
      patches.push({
        target,
        ops: extraEnv.map((name) => ({
          op: "add" as const,
          path: `${CONTAINER}/envFrom/-`,
          value: { secretRef: { name, optional: name !== DEPLOY_SECRET } },
        })),
      });
    }
  }

  patches.push({
    target: AAT_WORKLOADS.api,
    ops: knativeSize(api, { minScale: 1 }),
  });
  if (feed === "keda") {
    patches.push({
      target: AAT_WORKLOADS.workerDeployment,
      ops: memoryOps(worker.memoryMb),
    });
    patches.push({
      target: { group: "keda.sh", kind: "ScaledObject", name: "aat-worker" },
      ops: [
        { op: "replace", path: "/spec/maxReplicaCount", value: worker.maxInstances },
        {
          op: "replace",
          path: "/spec/triggers/0",
          value: kedaTrigger(onprem, stream, prefix, worker.concurrency),
        },
      ],
    });
  } else {
    patches.push({ target: AAT_WORKLOADS.workerKnative, ops: knativeSize(worker, { minScale: 0 }) });
  }
  patches.push({
    target: { group: "serving.knative.dev", kind: "DomainMapping", name: "aat.example.internal" },
    ops: [{ op: "replace", path: "/metadata/name", value: onprem.ingressHost }],
  });
  if (egressPorts.length > 0) {
    // Existing servers live outside the namespace: let the aat pods reach their ports.
    patches.push({
      target: { group: "networking.k8s.io", kind: "NetworkPolicy", name: "aat-runtime-egress" },
      ops: [
        {
          op: "add",
          path: "/spec/egress/-",
          value: { ports: [...new Set(egressPorts)].map((port) => ({ protocol: "TCP", port })) },
        },
      ],
    });
  }

  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: onprem.namespace,
    labels: [{ pairs: { "app.kubernetes.io/instance": prefix }, includeSelectors: false }],
    resources: ["namespace.yaml", `${root}/base`],
    components: [`${root}/components/${feed}`],
    images: [{ name: "aat", ...image }],
    generatorOptions: { disableNameSuffixHash: true },
    configMapGenerator: [
      {
        name: "aat-config",
        behavior: "merge",
        literals: Object.entries(settings).map(([key, value]) => `${key}=${value}`),
      },
    ],
    ...(Object.keys(secrets).length > 0
      ? {
          secretGenerator: [
            {
              name: DEPLOY_SECRET,
              literals: Object.entries(secrets).map(([key, value]) => `${key}=${value}`),
            },
          ],
        }
      : {}),
    patches: [
      ...patches.map(({ target, ops }) => ({ target, patch: stringify(ops) })),
      ...deletions.map((doc) => ({
        patch: stringify({
          apiVersion: doc.apiVersion,
          kind: doc.kind,
          metadata: { name: doc.name },
          $patch: "delete",
        }),
      })),
    ],
  };
  const header = `# Generated by \`npm run synth:onprem\` from ${file} (${prefix}). Do not edit: change the deploy\n# config and run it again. Apply with: kubectl apply -k <this folder>\n`;
  return {
    "kustomization.yaml": header + stringify(kustomization, { aliasDuplicateObjects: false }),
    "namespace.yaml":
      header + stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: onprem.namespace } }),
  };
}

type Size = DeployConfig["sizes"]["api"];

function knativeSize(size: Size, options: { minScale: number }): Op[] {
  const annotations = "/spec/template/metadata/annotations";
  return [
    {
      op: "replace",
      path: `${annotations}/autoscaling.knative.dev~1min-scale`,
      value: String(options.minScale),
    },
    {
      op: "replace",
      path: `${annotations}/autoscaling.knative.dev~1max-scale`,
      value: String(size.maxInstances),
    },
    { op: "replace", path: "/spec/template/spec/containerConcurrency", value: size.concurrency },
    { op: "replace", path: "/spec/template/spec/timeoutSeconds", value: size.timeoutSeconds },
    ...memoryOps(size.memoryMb),
  ];
}

function memoryOps(memoryMb: number): Op[] {
  return [
    { op: "replace", path: `${CONTAINER}/resources/limits/memory`, value: `${memoryMb}Mi` },
    {
      op: "replace",
      path: `${CONTAINER}/resources/requests/memory`,
      value: `${Math.max(128, Math.floor(memoryMb / 2))}Mi`,
    },
  ];
}

/** The KEDA trigger for the step queue: JetStream consumer lag, or the RabbitMQ queue's length. */
function kedaTrigger(onprem: OnpremDeploy, stream: string, prefix: string, perWorker: number): object {
  if (onprem.queue.kind === "rabbitmq") {
    return {
      type: "rabbitmq",
      metadata: {
        queueName: `${prefix}-steps`,
        mode: "QueueLength",
        value: String(perWorker),
        activationValue: "0",
        // KEDA reads the URL from the worker container's environment (the generated Secret).
        hostFromEnv: "AAT_RABBITMQ_URL",
      },
    };
  }
  const host = onprem.queue.url
    ? new URL(onprem.queue.url).hostname
    : `aat-nats.${onprem.namespace}.svc.cluster.local`;
  return {
    type: "nats-jetstream",
    metadata: {
      natsServerMonitoringEndpoint: `${host}:8222`,
      account: "$G",
      stream,
      consumer: "workers",
      lagThreshold: String(perWorker),
      activationLagThreshold: "0",
    },
  };
}

function bundledServer(which: "nats" | "redis") {
  return [
    { apiVersion: "apps/v1", kind: "StatefulSet", name: `aat-${which}` },
    { apiVersion: "v1", kind: "Service", name: `aat-${which}` },
    { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", name: `aat-${which}-ingress` },
  ];
}

function portOf(url: string, fallback: number): number {
  const port = new URL(url).port;
  return port ? Number(port) : fallback;
}

/** `registry/name:tag` or `registry/name@sha256:…` as kustomize's images entry. */
function parseImage(image: string, file: string): { newName: string; newTag?: string; digest?: string } {
  const match =
    /^([a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(
      image,
    );
  if (!match?.[1]) {
    throw new DeployConfigError(file, [
      {
        key: "onprem.image",
        problem: `"${image}" is not an image reference; expected registry/name:tag or registry/name@sha256:<digest>, e.g. ghcr.io/example/aat:0.1.0`,
      },
    ]);
  }
  return {
    newName: match[1],
    ...(match[3] ? { digest: match[3] } : { newTag: match[2] ?? "latest" }),
  };
}

/** A secret name from the common keys must also be a Kubernetes object name here. */
function kubernetesSecretName(name: string, key: string, file: string): string {
  if (/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) return name;
  throw new DeployConfigError(file, [
    {
      key,
      problem: `"${name}" is not a Kubernetes Secret name, which on-prem it must be: use lower-case letters, digits, - and . (e.g. aat-openai-key)`,
    },
  ]);
}
