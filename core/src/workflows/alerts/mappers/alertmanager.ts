import {
  AlertMappingError,
  at,
  isObject,
  type Json,
  Observables,
  requireArray,
  requireObject,
  requireText,
  requireTime,
  resource,
  severityFromWord,
  text,
} from "./read.js";
import type { AlertMapper, MappedAlert } from "./types.js";

/**
 * Prometheus Alertmanager webhook (version 4): one notification carries a group of alerts; each alert
 * becomes one of ours. Its identity is Alertmanager's per-label-set fingerprint plus startsAt, so
 * repeat notifications of the same firing alert merge while a new firing of it is a new alert.
 */
export const mapAlertmanager: AlertMapper = (payload) => {
  const body = requireObject(payload, "", "body");
  const alerts = requireArray(body, "alerts", "alerts");
  const common = { ...(isObject(body.commonLabels) ? body.commonLabels : {}) };
  return alerts.map((item, i) => one(body, item, `alerts[${i}]`, common));
};

function one(body: Json, item: unknown, where: string, commonLabels: Json): MappedAlert {
  if (!isObject(item)) throw new AlertMappingError(where, "expected an alert object");
  const labels = { ...commonLabels, ...requireObject(item, "labels", `${where}.labels`) } as Record<
    string,
    unknown
  >;
  const annotations = isObject(item.annotations) ? item.annotations : {};
  const alertname = requireText(labels, "alertname", `${where}.labels.alertname`);
  const startsAt = requireTime(item, "startsAt", `${where}.startsAt`);
  const status = text(item, "status") ?? text(body, "status") ?? "firing";
  const observables = new Observables();
  observables.addHost(labels.instance, `${where}.labels.instance`);
  for (const key of ["host", "hostname", "node", "nodename"])
    observables.addHost(labels[key], `${where}.labels.${key}`);
  for (const key of ["ip", "source_ip", "src_ip", "remote_ip"])
    observables.add("ip", labels[key], `${where}.labels.${key}`);
  observables.add("user", labels.user, `${where}.labels.user`);
  observables.add("url", item.generatorURL, `${where}.generatorURL`);
  const stringLabels = Object.fromEntries(
    Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
  const resources = [];
  if (typeof labels.pod === "string") {
    resources.push(resource("pod", { name: labels.pod, labels: stringLabels }));
  } else if (typeof labels.instance === "string") {
    resources.push(resource("host", { name: labels.instance, labels: stringLabels }));
  }
  const fingerprint = text(item, "fingerprint");
  const summary = text(annotations, "summary") ?? text(annotations, "title");
  const description = text(annotations, "description") ?? text(annotations, "message");
  const externalURL = text(body, "externalURL");
  return {
    ...(fingerprint !== undefined ? { nativeId: `${fingerprint}@${startsAt}` } : {}),
    rule: alertname,
    time: startsAt,
    // A resolved notification is informational: the condition is over.
    severity_id: status === "resolved" ? 1 : severityFromWord(text(labels, "severity"), 3),
    title: summary ? `${alertname}: ${summary}` : alertname,
    ...(description !== undefined ? { desc: description } : {}),
    types: [alertname, ...(typeof labels.job === "string" ? [`job:${labels.job}`] : [])],
    ...(externalURL !== undefined
      ? {
          src_url: `${externalURL.replace(/\/$/, "")}/#/alerts?filter=${encodeURIComponent(`{alertname="${alertname}"}`)}`,
        }
      : {}),
    analytic: { name: alertname },
    resources,
    observables: observables.list(),
    product: { name: "Prometheus Alertmanager", vendor_name: "Prometheus" },
    raw: {
      ...item,
      _envelope: {
        receiver: at(body, "receiver"),
        groupKey: at(body, "groupKey"),
        status: at(body, "status"),
        externalURL: at(body, "externalURL"),
        version: at(body, "version"),
      },
    },
  };
}
