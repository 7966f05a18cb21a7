import {
  AlertMappingError,
  at,
  Observables,
  requireObject,
  requireText,
  requireTime,
  resource,
  text,
} from "./read.js";
import type { AlertMapper } from "./types.js";

/**
 * A Wazuh alert as the integrator daemon posts it (an `<integration>` block with hook_url and
 * alert_format json): the alert document of alerts.json. The alert's `id` is the identity.
 */
export const mapWazuh: AlertMapper = (payload) => {
  const alert = requireObject(payload, "", "body");
  const rule = requireObject(alert, "rule", "rule");
  const level = at(rule, "level");
  if (typeof level !== "number") {
    throw new AlertMappingError(
      "rule.level",
      level === undefined ? "missing: expected a number 0-15" : "expected a number 0-15",
    );
  }
  const description = requireText(rule, "description", "rule.description");
  const ruleId = requireText(rule, "id", "rule.id");
  const time = requireTime(alert, "timestamp", "timestamp");
  const data = at(alert, "data") ?? {};
  const observables = new Observables();
  for (const f of ["srcip", "src_ip", "aws.sourceIPAddress", "win.eventdata.ipAddress"])
    observables.add("ip", at(data, f), `data.${f}`, "src");
  for (const f of ["dstip", "dst_ip"]) observables.add("ip", at(data, f), `data.${f}`, "dst");
  for (const f of [
    "srcuser",
    "dstuser",
    "win.eventdata.targetUserName",
    "win.eventdata.subjectUserName",
    "audit.auid",
  ]) {
    observables.add(
      "user",
      at(data, f),
      `data.${f}`,
      f.startsWith("dst") || f.includes("target") ? "target" : "actor",
    );
  }
  observables.add("url", at(data, "url"), "data.url");
  observables.add("domain", at(data, "hostname"), "data.hostname");
  for (const f of ["md5_after", "sha1_after", "sha256_after"])
    observables.add("hash", at(alert, `syscheck.${f}`), `syscheck.${f}`);
  observables.add("process", at(data, "win.eventdata.image"), "data.win.eventdata.image");
  observables.add("host", at(alert, "agent.name"), "agent.name", "target");
  observables.add("ip", at(alert, "agent.ip"), "agent.ip", "target");
  const groups = Array.isArray(rule.groups)
    ? rule.groups.filter((g): g is string => typeof g === "string")
    : [];
  const mitre = at(rule, "mitre.id");
  const id = text(alert, "id");
  return [
    {
      ...(id !== undefined ? { nativeId: id } : {}),
      rule: ruleId,
      time,
      severity_id: wazuhSeverity(level),
      title: description,
      ...(text(alert, "full_log") !== undefined ? { desc: text(alert, "full_log")! } : {}),
      types: [...groups, ...(Array.isArray(mitre) ? mitre.map(String) : [])],
      analytic: { uid: ruleId, name: description },
      resources: [
        resource("host", {
          uid: text(alert, "agent.id"),
          name: text(alert, "agent.name"),
          ...(text(alert, "location") ? { labels: { location: text(alert, "location")! } } : {}),
        }),
      ],
      observables: observables.list(),
      product: { name: "Wazuh", vendor_name: "Wazuh", ...(text(alert, "manager.name") ? {} : {}) },
      raw: payload,
    },
  ];
};

/** Wazuh rule levels: 0-2 informational, 3-6 low, 7-11 medium, 12-14 high, 15 critical. */
function wazuhSeverity(level: number): number {
  if (level >= 15) return 5;
  if (level >= 12) return 4;
  if (level >= 7) return 3;
  if (level >= 3) return 2;
  return 1;
}
