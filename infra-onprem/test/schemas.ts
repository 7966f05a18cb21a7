import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Broker, Trigger } from "@kubernetes-models/knative/eventing.knative.dev/v1";
import { Service as KnativeService } from "@kubernetes-models/knative/serving.knative.dev/v1";
import { DomainMapping } from "@kubernetes-models/knative/serving.knative.dev/v1beta1";
import { ContainerSource } from "@kubernetes-models/knative/sources.knative.dev/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";

/**
 * The model class of every apiVersion/kind the bundle emits. Each `validate()` checks the object against
 * the published JSON schema: Kubernetes from kubernetes-models 4 (Node 20; 5 needs Node 22), Knative
 * from @kubernetes-models/knative 2.4 and KEDA from @kubernetes-models/keda 0.4 (their CRD schemas).
 */
type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/StatefulSet": StatefulSet,
  "apps/v1/Deployment": Deployment,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "serving.knative.dev/v1/Service": KnativeService,
  "serving.knative.dev/v1beta1/DomainMapping": DomainMapping,
  "eventing.knative.dev/v1/Broker": Broker,
  "eventing.knative.dev/v1/Trigger": Trigger,
  "sources.knative.dev/v1/ContainerSource": ContainerSource,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
};

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are walked by path in the tests
  [key: string]: any;
}

/** Validates one object against its schema; an object of a kind without a model is an error too. */
export function validateObject(object: K8sObject): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) throw new Error(`no schema for ${object.apiVersion} ${object.kind} (${object.metadata?.name})`);
  try {
    new model(object as never).validate();
  } catch (error) {
    throw new Error(
      `${object.kind} ${object.metadata.name} does not match its schema: ${(error as Error).message}`,
    );
  }
}
