import {
  AlertMappingError,
  at,
  isObject,
  type Json,
  Observables,
  requireArray,
  requireObject,
  resource,
  severityFromWord,
  text,
  timeOf,
} from "./read.js";
import type { AlertMapper, MappedAlert } from "./types.js";

/**
 * Elastic Security alerts through a Kibana Webhook connector. The connector's body is a mustache
 * template the user writes; docs/workflows-alerts.md gives the one this mapper reads:
 * `{ "rule": {...context.rule}, "results_link": ..., "alerts": {{#toJson}}context.alerts{{/toJson}} }`.
 * Each alert document (flat `kibana.alert.*` keys beside nested ECS fields) becomes one alert.
 */
export const mapElastic: AlertMapper = (payload, receivedAt) => {
  const body = requireObject(payload, "", "body");
  const rule = isObject(body.rule) ? body.rule : {};
  const alerts = requireArray(body, "alerts", "alerts");
  return alerts.map((doc, i) => one(body, rule, doc, `alerts[${i}]`, receivedAt));
};

function one(body: Json, rule: Json, doc: unknown, where: string, receivedAt: number): MappedAlert {
  if (!isObject(doc)) throw new AlertMappingError(where, "expected an alert document object");
  const ruleName = text(doc, "kibana.alert.rule.name") ?? text(rule, "name");
  if (ruleName === undefined)
    throw new AlertMappingError(`${where}.kibana.alert.rule.name`, "missing (and no rule.name in the body)");
  const uuid = text(doc, "kibana.alert.uuid") ?? text(doc, "_id");
  const time = timeOf(at(doc, "@timestamp")) ?? timeOf(at(doc, "kibana.alert.original_time")) ?? receivedAt;
  const observables = new Observables();
  for (const f of ["source.ip", "client.ip"]) observables.add("ip", at(doc, f), `${where}.${f}`, "src");
  for (const f of ["destination.ip", "server.ip"]) observables.add("ip", at(doc, f), `${where}.${f}`, "dst");
  observables.add("ip", at(doc, "host.ip"), `${where}.host.ip`, "target");
  observables.add("host", at(doc, "host.name") ?? at(doc, "host.hostname"), `${where}.host.name`, "target");
  observables.add("user", at(doc, "user.name"), `${where}.user.name`, "actor");
  observables.add("email", at(doc, "user.email"), `${where}.user.email`);
  observables.add("process", at(doc, "process.name"), `${where}.process.name`);
  for (const h of ["md5", "sha1", "sha256"]) {
    observables.add("hash", at(doc, `file.hash.${h}`), `${where}.file.hash.${h}`);
    observables.add("hash", at(doc, `process.hash.${h}`), `${where}.process.hash.${h}`);
  }
  observables.add("url", at(doc, "url.full") ?? at(doc, "url.original"), `${where}.url.full`);
  for (const f of ["dns.question.name", "destination.domain", "url.domain"])
    observables.add("domain", at(doc, f), `${where}.${f}`);
  observables.add("email", at(doc, "email.from.address"), `${where}.email.from.address`, "sender");
  const severity = text(doc, "kibana.alert.severity") ?? text(rule, "severity");
  const reason = text(doc, "kibana.alert.reason");
  const ruleId =
    text(doc, "kibana.alert.rule.rule_id") ??
    text(doc, "kibana.alert.rule.uuid") ??
    text(rule, "id") ??
    ruleName;
  const tactics = at(doc, "kibana.alert.rule.threat");
  const types = [ruleName];
  if (Array.isArray(tactics)) {
    for (const t of tactics) {
      const tactic = text(t, "tactic.name");
      if (tactic) types.push(tactic);
    }
  }
  const link = text(body, "results_link") ?? text(body, "kibanaBaseUrl");
  const hostName = text(doc, "host.name");
  return {
    ...(uuid !== undefined ? { nativeId: uuid } : {}),
    rule: ruleId,
    time,
    severity_id: severityFromWord(severity, 3),
    title: ruleName,
    ...(reason !== undefined
      ? { desc: reason }
      : text(rule, "description")
        ? { desc: text(rule, "description")! }
        : {}),
    types,
    ...(link !== undefined ? { src_url: link } : {}),
    analytic: { uid: ruleId, name: ruleName },
    resources: hostName ? [resource("host", { name: hostName, uid: text(doc, "host.id") })] : [],
    observables: observables.list(),
    product: {
      name: "Elastic Security",
      vendor_name: "Elastic",
      ...(text(doc, "kibana.version") ? { version: text(doc, "kibana.version")! } : {}),
    },
    raw: { ...doc, _envelope: { rule, results_link: body.results_link } },
  };
}
