import {
  AlertMappingError,
  at,
  isObject,
  Observables,
  requireObject,
  requireText,
  requireTime,
  resource,
  text,
} from "./read.js";
import type { AlertMapper } from "./types.js";

/**
 * An AWS GuardDuty finding delivered by EventBridge (rule on source aws.guardduty, detail-type
 * "GuardDuty Finding", target an API destination). GuardDuty updates a finding in place (same id,
 * service.count grows), so its id is the identity and updates merge into one alert.
 */
export const mapGuardDuty: AlertMapper = (payload) => {
  const event = requireObject(payload, "", "body");
  const detail = requireObject(event, "detail", "detail");
  const id = requireText(detail, "id", "detail.id");
  const type = requireText(detail, "type", "detail.type");
  const severity = at(detail, "severity");
  if (typeof severity !== "number") {
    throw new AlertMappingError(
      "detail.severity",
      severity === undefined ? "missing: expected a number" : "expected a number (1.0-10.0)",
    );
  }
  const region = text(detail, "region") ?? text(event, "region");
  const time =
    at(detail, "updatedAt") !== undefined
      ? requireTime(detail, "updatedAt", "detail.updatedAt")
      : requireTime(event, "time", "time");
  const res = isObject(detail.resource) ? detail.resource : {};
  const resourceType = text(res, "resourceType") ?? "Unknown";
  const observables = new Observables();
  const resources = [];

  const key = at(res, "accessKeyDetails");
  if (isObject(key)) {
    observables.add("user", key.userName, "detail.resource.accessKeyDetails.userName", "actor");
    resources.push(
      resource("AccessKey", {
        uid: text(key, "accessKeyId"),
        name: text(key, "userName"),
        region,
        labels: stringRecord({ principalId: key.principalId, userType: key.userType }),
      }),
    );
  }
  const instance = at(res, "instanceDetails");
  if (isObject(instance)) {
    observables.add("host", instance.instanceId, "detail.resource.instanceDetails.instanceId", "target");
    const interfaces = Array.isArray(instance.networkInterfaces) ? instance.networkInterfaces : [];
    interfaces.forEach((nic, i) => {
      observables.add(
        "ip",
        at(nic, "privateIpAddress"),
        `detail.resource.instanceDetails.networkInterfaces[${i}].privateIpAddress`,
        "target",
      );
      observables.add(
        "ip",
        at(nic, "publicIp"),
        `detail.resource.instanceDetails.networkInterfaces[${i}].publicIp`,
        "target",
      );
    });
    resources.push(resource("AwsEc2Instance", { uid: text(instance, "instanceId"), region }));
  }
  const eks = at(res, "eksClusterDetails");
  if (isObject(eks))
    resources.push(resource("AwsEksCluster", { name: text(eks, "name"), uid: text(eks, "arn"), region }));
  const bucket = at(res, "s3BucketDetails");
  if (Array.isArray(bucket)) {
    for (const b of bucket)
      resources.push(resource("AwsS3Bucket", { name: text(b, "name"), uid: text(b, "arn"), region }));
  }

  const action = at(detail, "service.action");
  if (isObject(action)) {
    const base = "detail.service.action";
    for (const kind of [
      "awsApiCallAction",
      "networkConnectionAction",
      "kubernetesApiCallAction",
      "rdsLoginAttemptAction",
    ]) {
      const a = action[kind];
      if (!isObject(a)) continue;
      observables.add(
        "ip",
        at(a, "remoteIpDetails.ipAddressV4"),
        `${base}.${kind}.remoteIpDetails.ipAddressV4`,
        "src",
      );
      observables.add(
        "ip",
        at(a, "remoteIpDetails.ipAddressV6"),
        `${base}.${kind}.remoteIpDetails.ipAddressV6`,
        "src",
      );
      observables.add("domain", at(a, "domainDetails.domain"), `${base}.${kind}.domainDetails.domain`);
    }
    const probes = at(action, "portProbeAction.portProbeDetails");
    if (Array.isArray(probes)) {
      probes.forEach((p, i) => {
        observables.add(
          "ip",
          at(p, "remoteIpDetails.ipAddressV4"),
          `${base}.portProbeAction.portProbeDetails[${i}].remoteIpDetails.ipAddressV4`,
          "src",
        );
      });
    }
    observables.add("domain", at(action, "dnsRequestAction.domain"), `${base}.dnsRequestAction.domain`);
  }

  const account = text(detail, "accountId") ?? text(event, "account");
  const partition = text(detail, "partition") ?? "aws";
  const consoleHost = partition === "aws" ? "console.aws.amazon.com" : `console.${partition}.amazonaws.com`;
  return [
    {
      nativeId: id,
      rule: type,
      time,
      severity_id: guardDutySeverity(severity),
      title: text(detail, "title") ?? type,
      ...(text(detail, "description") !== undefined ? { desc: text(detail, "description")! } : {}),
      types: [type, ...(text(detail, "service.featureName") ? [text(detail, "service.featureName")!] : [])],
      ...(region !== undefined
        ? {
            src_url: `https://${consoleHost}/guardduty/home?region=${region}#/findings?macros=current&fId=${encodeURIComponent(id)}`,
          }
        : {}),
      analytic: { uid: type, name: type },
      resources: resources.length > 0 ? resources : [resource(resourceType, { region, uid: account })],
      observables: observables.list(),
      product: { name: "Amazon GuardDuty", vendor_name: "AWS" },
      raw: payload,
    },
  ];
};

/** GuardDuty: 1.0-3.9 Low, 4.0-6.9 Medium, 7.0-8.9 High, 9.0-10.0 Critical. */
function guardDutySeverity(value: number): number {
  if (value >= 9) return 5;
  if (value >= 7) return 4;
  if (value >= 4) return 3;
  if (value >= 1) return 2;
  return 1;
}

function stringRecord(fields: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}
