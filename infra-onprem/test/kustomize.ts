import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { K8sObject } from "./schemas.js";

export const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), "..");

/** `kubectl kustomize <dir>` (offline: kustomize reads only local files), parsed into objects. */
export function build(dir: string): K8sObject[] {
  const text = execFileSync("kubectl", ["kustomize", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`kustomize output of ${dir} is not YAML: ${doc.errors[0]}`);
    return doc.toJS() as K8sObject;
  });
}

export function find(objects: K8sObject[], kind: string, name: string, apiVersion?: string): K8sObject {
  const found = objects.find(
    (o) => o.kind === kind && o.metadata.name === name && (!apiVersion || o.apiVersion === apiVersion),
  );
  if (!found) throw new Error(`${kind} ${name} is not in the build`);
  return found;
}

/** The container spec of a workload, whatever its kind (Knative Service, Deployment, ContainerSource). */
export function containerOf(object: K8sObject) {
  return object.spec.template.spec.containers[0];
}

/**
 * The environment an aat container starts with: the ConfigMap (envFrom), then `env` with $(VAR)
 * references resolved the way the kubelet does, secrets standing in as placeholders.
 */
export function environmentOf(objects: K8sObject[], workload: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  const container = containerOf(workload);
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find(objects, "ConfigMap", from.configMapRef.name).data);
  }
  for (const entry of container.env ?? []) {
    if (entry.valueFrom?.secretKeyRef) env[entry.name] = `secret-${entry.valueFrom.secretKeyRef.key}`;
    else env[entry.name] = String(entry.value).replace(/\$\(([A-Z0-9_]+)\)/g, (_, name) => env[name] ?? "");
  }
  return env;
}
