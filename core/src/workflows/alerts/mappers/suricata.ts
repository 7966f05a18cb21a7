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
import type { AlertMapper, MappedAlert } from "./types.js";

/**
 * Suricata EVE JSON `alert` events, as a log shipper (Fluent Bit, Vector, Logstash http output) posts
 * them: one event object or an array of them. EVE has no per-alert id, so the fingerprint is the hash of
 * signature id and the flow's addresses.
 */
export const mapSuricata: AlertMapper = (payload) => {
  if (Array.isArray(payload)) {
    if (payload.length === 0)
      throw new AlertMappingError("body", "is an empty array: expected EVE alert events");
    return payload.map((event, i) => one(event, `[${i}]`));
  }
  return [one(payload, "")];
};

function one(payload: unknown, where: string): MappedAlert {
  const p = (field: string) => (where === "" ? field : `${where}.${field}`);
  const event = requireObject(payload, "", where === "" ? "body" : where);
  const type = requireText(event, "event_type", p("event_type"));
  if (type !== "alert")
    throw new AlertMappingError(
      p("event_type"),
      `is "${type}": only EVE alert events are alerts (filter on event_type == "alert" in the shipper)`,
    );
  const alert = requireObject(event, "alert", p("alert"));
  const signature = requireText(alert, "signature", p("alert.signature"));
  const sid = requireText(alert, "signature_id", p("alert.signature_id"));
  const time = requireTime(event, "timestamp", p("timestamp"));
  const o = new Observables();
  o.add("ip", event.src_ip, p("src_ip"), "src");
  o.add("ip", event.dest_ip, p("dest_ip"), "dst");
  const httpHost = text(event, "http.hostname");
  o.add("domain", httpHost, p("http.hostname"));
  if (httpHost !== undefined && text(event, "http.url") !== undefined) {
    const scheme = text(event, "dest_port") === "443" ? "https" : "http";
    o.add("url", `${scheme}://${httpHost}${text(event, "http.url")}`, p("http.url"));
  }
  o.add("domain", at(event, "tls.sni"), p("tls.sni"));
  o.add("domain", at(event, "dns.rrname") ?? at(event, "dns.query.0.rrname"), p("dns.rrname"));
  o.add("hash", at(event, "fileinfo.sha256"), p("fileinfo.sha256"));
  o.add("hash", at(event, "fileinfo.md5"), p("fileinfo.md5"));
  o.add("email", at(event, "smtp.mail_from")?.toString().replace(/[<>]/g, ""), p("smtp.mail_from"), "sender");
  const severity = at(alert, "severity");
  const category = text(alert, "category");
  const sensor = text(event, "host") ?? text(event, "in_iface");
  return {
    rule: sid,
    time,
    severity_id: suricataSeverity(typeof severity === "number" ? severity : 3),
    title: signature,
    ...(category !== undefined
      ? {
          desc: `${category}: ${signature} (${text(event, "proto") ?? "?"} ${text(event, "src_ip") ?? "?"}:${text(event, "src_port") ?? "?"} -> ${text(event, "dest_ip") ?? "?"}:${text(event, "dest_port") ?? "?"}, action ${text(alert, "action") ?? "?"})`,
        }
      : {}),
    types: [
      ...(category !== undefined ? [category] : []),
      ...(isObject(alert.metadata) && Array.isArray(alert.metadata.mitre_technique_id)
        ? alert.metadata.mitre_technique_id.map(String)
        : []),
    ],
    analytic: { uid: `${text(alert, "gid") ?? "1"}:${sid}:${text(alert, "rev") ?? "0"}`, name: signature },
    resources: sensor ? [resource("sensor", { name: sensor })] : [],
    observables: o.list(),
    product: { name: "Suricata", vendor_name: "OISF" },
    raw: payload,
  };
}

/** Suricata: 1 is the most severe. */
function suricataSeverity(value: number): number {
  if (value <= 1) return 4;
  if (value === 2) return 3;
  if (value === 3) return 2;
  return 1;
}
