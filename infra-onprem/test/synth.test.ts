import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadConfig } from "@aat/core";
import { DeployConfigError, parseDeployConfig } from "@aat/infra-config";
import { afterAll, describe, expect, it } from "vitest";
import { generateOverlay } from "../src/overlay.js";
import { BUNDLE, build, containerOf, environmentOf, find } from "./kustomize.js";
import { type K8sObject, validateObject } from "./schemas.js";

const EXAMPLE = join(BUNDLE, "../deploy.config.example.yaml");
const scratch = mkdtempSync(join(tmpdir(), "aat-onprem-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let count = 0;

const ONPREM_ONLY = (onprem: string, extra = "") =>
  `name: shop\nenvironment: prod\n${extra}onprem:\n${onprem
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n")}\n`;

describe("npm run synth:onprem", () => {
  it("writes an overlay from the example deploy config that builds and validates", () => {
    const out = join(scratch, "example");
    const run = spawnSync("npx", ["tsx", join(BUNDLE, "src/synth.ts"), "--config", EXAMPLE, "--out", out], {
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("deploy with: kubectl apply -k");
    const objects = build(out);
    for (const object of objects) validateObject(object);
    // The example: name aat, environment dev, onprem.namespace aat, workerFeed keda.
    expect(find(objects, "Namespace", "aat").kind).toBe("Namespace");
    expect(objects.every((o) => o.kind === "Namespace" || o.metadata.namespace === "aat")).toBe(true);
    const config = find(objects, "ConfigMap", "aat-config").data;
    expect(config).toMatchObject({
      AAT_NATS_STREAM: "AAT_DEV",
      AAT_NATS_SUBJECT_PREFIX: "aat-dev",
      AAT_REDIS_KEY_PREFIX: "aat-dev",
      AAT_SERVER_PUBLIC_URL: "https://aat.example.internal",
    });
    const trigger = find(objects, "ScaledObject", "aat-worker").spec.triggers[0];
    expect(trigger.metadata).toMatchObject({ stream: "AAT_DEV", consumer: "workers" });
    const api = find(objects, "Service", "aat-api", "serving.knative.dev/v1");
    expect(containerOf(api).image).toBe("ghcr.io/example/aat:latest");
    // modelSecrets and webhookSecrets of the example become optional env Secrets.
    expect(containerOf(api).envFrom).toEqual(
      expect.arrayContaining([
        { secretRef: { name: "aat-openai-key", optional: true } },
        { secretRef: { name: "aat-webhook-demo", optional: true } },
      ]),
    );
    const loaded = loadConfig({ env: environmentOf(objects, api), cwd: "/app" });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.queue.kind).toBe("nats");
  });

  it("eventing feed on RabbitMQ and an existing Redis: no bundled servers, URLs from the generated Secret", () => {
    const objects = synthAndBuildAt(
      ONPREM_ONLY(
        [
          "namespace: shop",
          "image: registry.local:5000/aat@sha256:" + "a".repeat(64),
          'queue: { kind: rabbitmq, url: "amqp://aat:pw@rabbit.internal:5672" }',
          'kv: { kind: redis, url: "redis://:pw@redis.internal:6380/0" }',
          "workerFeed: eventing",
          "ingressHost: aat.shop.example",
        ].join("\n"),
        "sizes:\n  worker: { memoryMb: 2048, timeoutSeconds: 600, maxInstances: 4, concurrency: 8 }\n",
      ),
    );
    expect(objects.filter((o) => o.kind === "StatefulSet")).toEqual([]);
    expect(objects.some((o) => o.kind === "ScaledObject")).toBe(false);
    const worker = find(objects, "Service", "aat-worker", "serving.knative.dev/v1");
    expect(worker.metadata.labels?.["networking.knative.dev/visibility"]).toBe("cluster-local");
    expect(worker.spec.template.spec).toMatchObject({ containerConcurrency: 8, timeoutSeconds: 600 });
    expect(worker.spec.template.metadata.annotations["autoscaling.knative.dev/max-scale"]).toBe("4");
    expect(containerOf(worker).resources.limits.memory).toBe("2048Mi");
    for (const workload of [
      find(objects, "Service", "aat-api", "serving.knative.dev/v1"),
      worker,
      find(objects, "ContainerSource", "aat-step-bridge"),
    ]) {
      const container = containerOf(workload);
      // An entry script a container names is in the image (the repository, copied whole).
      for (const script of (container.command ?? []).filter((part: string) => part.endsWith(".ts")))
        expect(existsSync(join(BUNDLE, "..", script)), `${script} exists`).toBe(true);
      expect(container.image).toBe(`registry.local:5000/aat@sha256:${"a".repeat(64)}`);
      expect(container.env.find((e: { name: string }) => e.name === "AAT_REDIS_URL").valueFrom).toEqual({
        secretKeyRef: { name: "aat-deploy-secrets", key: "AAT_REDIS_URL" },
      });
      expect(container.envFrom).toContainEqual({
        secretRef: { name: "aat-deploy-secrets", optional: false },
      });
    }
    const secret = find(objects, "Secret", "aat-deploy-secrets");
    expect(Buffer.from(secret.data.AAT_RABBITMQ_URL, "base64").toString()).toBe(
      "amqp://aat:pw@rabbit.internal:5672",
    );
    expect(find(objects, "ConfigMap", "aat-config").data).toMatchObject({
      AAT_QUEUE_KIND: "rabbitmq",
      AAT_RABBITMQ_QUEUE: "shop-prod-steps",
    });
    expect(find(objects, "DomainMapping", "aat.shop.example").spec.ref.name).toBe("aat-api");
    const egress = find(objects, "NetworkPolicy", "aat-runtime-egress").spec.egress.at(-1);
    expect(egress.ports.map((p: { port: number }) => p.port)).toEqual([5672, 6380]);
  });

  it("KEDA on an existing NATS reads lag from that server's monitoring port", () => {
    const objects = synthAndBuildAt(
      ONPREM_ONLY('queue: { kind: nats, url: "nats://nats.infra.svc:4222" }\nworkerFeed: keda'),
    );
    expect(objects.some((o) => o.kind === "StatefulSet" && o.metadata.name === "aat-nats")).toBe(false);
    expect(find(objects, "StatefulSet", "aat-redis").kind).toBe("StatefulSet");
    expect(find(objects, "ScaledObject", "aat-worker").spec.triggers[0].metadata).toMatchObject({
      natsServerMonitoringEndpoint: "nats.infra.svc:8222",
      stream: "SHOP_PROD",
      consumer: "workers",
    });
    expect(find(objects, "ConfigMap", "aat-config").data.AAT_NATS_SERVERS).toBe("nats://nats.infra.svc:4222");
  });

  it("a bad deploy config fails the script with the key and the reason, and writes nothing", () => {
    const file = join(scratch, "bad.yaml");
    writeFileSync(file, ONPREM_ONLY("namespace: Not_A_Namespace\nworkerFeed: pull"));
    const out = join(scratch, "never");
    const run = spawnSync("npx", ["tsx", join(BUNDLE, "src/synth.ts"), "--config", file, "--out", out], {
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${file} is not a valid deploy configuration`);
    expect(run.stderr).toMatch(/:\d+:\d+ onprem\.namespace: a Kubernetes namespace name/);
    expect(run.stderr).toMatch(/onprem\.workerFeed: .*"eventing"/);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses what only the bundle cannot take, naming the key", () => {
    const fails = (yaml: string) => {
      try {
        generateOverlay(parseDeployConfig(yaml));
      } catch (error) {
        expect(error).toBeInstanceOf(DeployConfigError);
        return (error as DeployConfigError).problems;
      }
      throw new Error("expected a DeployConfigError");
    };
    expect(fails("name: shop\nenvironment: prod\n")).toEqual([
      expect.objectContaining({ key: "onprem", problem: expect.stringContaining("missing") }),
    ]);
    expect(fails(ONPREM_ONLY("image: 'Not An Image'"))[0]).toMatchObject({
      key: "onprem.image",
      problem: expect.stringContaining("not an image reference"),
    });
    expect(fails(ONPREM_ONLY("{}", "modelSecrets: { openai: OPENAI_KEY }\n"))[0]).toMatchObject({
      key: "modelSecrets.openai",
      problem: expect.stringContaining("Kubernetes Secret name"),
    });
  });
});

/** Generates into a scratch folder with bundleRoot relative to it, then builds. */
function synthAndBuildAt(yaml: string): K8sObject[] {
  const out = join(scratch, `overlay-${++count}`);
  const files = generateOverlay(parseDeployConfig(yaml), { bundleRoot: relative(out, BUNDLE) });
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
  const objects = build(out);
  for (const object of objects) validateObject(object);
  return objects;
}
