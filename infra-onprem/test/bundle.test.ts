import { readFileSync } from "node:fs";
import { join } from "node:path";
import { queueTopology } from "@aat/adapter-nats";
import { loadConfig } from "@aat/core";
import { describe, expect, it } from "vitest";
import { CLOUDEVENTS_STEPS_PATH, STEP_EVENT_TYPE } from "../../functions/node/src/cloudevents.js";
import { NATS_STEP_SUBJECT } from "../../functions/node/src/network-stores.js";
import { BUNDLE, build, containerOf, environmentOf, find } from "./kustomize.js";
import { type K8sObject, validateObject } from "./schemas.js";

/** Builds one kustomization and checks every object against its schema. */
function buildValid(dir: string): K8sObject[] {
  const objects = build(join(BUNDLE, dir));
  expect(objects.length).toBeGreaterThan(0);
  for (const object of objects) validateObject(object);
  return objects;
}

const NATS_QUEUE_SOURCE = readFileSync(join(BUNDLE, "../adapters/nats/src/nats-queue.ts"), "utf8");

describe("the kustomize bundle", () => {
  const base = buildValid("base");
  const overlays = { dev: buildValid("overlays/dev"), prod: buildValid("overlays/prod") };

  it("builds base and every overlay, each object valid against the Kubernetes, Knative and KEDA schemas", () => {
    expect(base.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining([
        "ConfigMap/aat-config",
        "Service/aat-api",
        "StatefulSet/aat-nats",
        "StatefulSet/aat-redis",
        "NetworkPolicy/aat-default-deny",
        "DomainMapping/aat.example.internal",
      ]),
    );
    for (const objects of Object.values(overlays)) {
      expect(find(objects, "Deployment", "aat-worker").kind).toBe("Deployment");
      expect(find(objects, "ScaledObject", "aat-worker").kind).toBe("ScaledObject");
    }
  });

  it("the schema check is not vacuous: a wrong field type fails", () => {
    const api = structuredClone(find(base, "Service", "aat-api", "serving.knative.dev/v1"));
    api.spec.template.spec.containerConcurrency = "eighty";
    expect(() => validateObject(api)).toThrow(/aat-api does not match its schema/);
    const scaled = structuredClone(find(overlays.dev, "ScaledObject", "aat-worker"));
    scaled.spec.minReplicaCount = "none";
    expect(() => validateObject(scaled)).toThrow(/schema/);
  });

  it("runs the api as a Knative Service with scale bounds, concurrency and the runtime's probes", () => {
    const api = find(overlays.prod, "Service", "aat-api", "serving.knative.dev/v1");
    const template = api.spec.template;
    expect(template.metadata.annotations["autoscaling.knative.dev/min-scale"]).toBe("2");
    expect(template.metadata.annotations["autoscaling.knative.dev/max-scale"]).toBe("20");
    expect(template.spec.containerConcurrency).toBe(80);
    const container = containerOf(api);
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.ports[0].containerPort).toBe(8080);
    expect(container.securityContext.runAsNonRoot).toBe(true);
  });

  it("every aat container's environment is a valid runtime configuration with the right role", () => {
    for (const [name, objects] of Object.entries(overlays)) {
      const api = find(objects, "Service", "aat-api", "serving.knative.dev/v1");
      const worker = find(objects, "Deployment", "aat-worker");
      for (const [workload, role] of [
        [api, "api"],
        [worker, "worker"],
      ] as const) {
        const env = environmentOf(objects, workload);
        const loaded = loadConfig({ env, cwd: "/app" });
        expect(loaded.warnings, `${name} ${role}: unknown AAT_* variables`).toEqual([]);
        expect(loaded.config.server.role).toBe(role);
        expect(loaded.config.server.host).toBe("0.0.0.0");
        expect(loaded.config.queue.kind).toBe("nats");
        expect(loaded.config.kv.kind).toBe("redis");
        expect(env.AAT_REDIS_URL).toBe("redis://:secret-redis-password@aat-redis:6379/0");
        expect(env.AAT_NATS_SERVERS).toBe("nats://aat-nats:4222");
      }
    }
  });

  it("scales pull workers with KEDA on the JetStream consumer adapters/nats creates", () => {
    // The node runtime names no consumer, so NatsQueue's default durable consumer is the workers' one.
    const defaultConsumer = /consumer: "([A-Za-z0-9_-]+)"/.exec(NATS_QUEUE_SOURCE)?.[1];
    expect(defaultConsumer).toBe("workers");
    for (const [name, objects] of Object.entries(overlays)) {
      const config = find(objects, "ConfigMap", "aat-config").data;
      const trigger = find(objects, "ScaledObject", "aat-worker").spec.triggers[0];
      const topology = queueTopology(
        config.AAT_NATS_STREAM,
        `${config.AAT_NATS_SUBJECT_PREFIX}.${NATS_STEP_SUBJECT}`,
        defaultConsumer!,
      );
      expect(trigger.type).toBe("nats-jetstream");
      expect(trigger.metadata.stream, name).toBe(topology.stream);
      expect(trigger.metadata.consumer).toBe(topology.consumer);
      const namespace = find(objects, "Namespace", name === "dev" ? "aat-dev" : "aat").metadata.name;
      expect(trigger.metadata.natsServerMonitoringEndpoint).toBe(
        `aat-nats.${namespace}.svc.cluster.local:8222`,
      );
      expect(find(objects, "ScaledObject", "aat-worker").spec.scaleTargetRef.name).toBe("aat-worker");
    }
  });

  it("runs NATS with JetStream and Redis on persistent volumes, with monitoring for KEDA", () => {
    const nats = find(base, "StatefulSet", "aat-nats");
    expect(containerOf(nats).args).toEqual(expect.arrayContaining(["--jetstream", "--http_port=8222"]));
    expect(nats.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("5Gi");
    const redis = find(base, "StatefulSet", "aat-redis");
    expect(containerOf(redis).args).toEqual(expect.arrayContaining(["--appendonly", "yes"]));
    expect(
      find(overlays.prod, "StatefulSet", "aat-redis").spec.volumeClaimTemplates[0].spec.resources.requests
        .storage,
    ).toBe("20Gi");
  });

  it("denies by default and opens ingress → api, runtime → NATS/Redis and HTTPS egress", () => {
    const deny = find(base, "NetworkPolicy", "aat-default-deny");
    expect(deny.spec.podSelector).toEqual({});
    expect(deny.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const egress = find(base, "NetworkPolicy", "aat-runtime-egress").spec.egress;
    expect(
      egress.flatMap((rule: { ports: Array<{ port: number }> }) => rule.ports.map((p) => p.port)),
    ).toEqual([4222, 6379, 443]);
    expect(find(base, "NetworkPolicy", "aat-api-from-ingress").spec.podSelector.matchLabels).toMatchObject({
      "app.kubernetes.io/component": "api",
    });
  });

  it("puts the overlay's image on every aat container", () => {
    const images = overlays.dev
      .filter((o) => ["Service", "Deployment"].includes(o.kind) && o.spec.template?.spec?.containers)
      .map((o) => containerOf(o).image);
    expect(images).toEqual(["aat:dev", "aat:dev"]);
    expect(containerOf(find(overlays.prod, "Deployment", "aat-worker")).image).toBe(
      "ghcr.io/example/aat:0.1.0",
    );
  });

  it("the eventing component pushes dev.aat.step CloudEvents to the worker's receiver route", () => {
    const text = readFileSync(join(BUNDLE, "components/eventing/broker.yaml"), "utf8");
    expect(text).toContain(`uri: ${CLOUDEVENTS_STEPS_PATH}`);
    expect(text).toContain(`type: ${STEP_EVENT_TYPE}`);
    expect(text).toContain("kind: NatsJetStreamChannel");
  });
});
