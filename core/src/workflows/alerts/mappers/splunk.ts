import {
  AlertMappingError,
  at,
  isObject,
  type Json,
  Observables,
  requireObject,
  resource,
  severityFromWord,
  text,
  timeOf,
} from "./read.js";
import type { AlertMapper, MappedAlert } from "./types.js";

/**
 * Splunk's Webhook alert action (Alerting Manual, "Use a webhook alert action"): `{ result, sid,
 * results_link, search_name, owner, app }` where `result` is the first result row. `search_name` is
 * null for a search that is not saved (Splunk's own example shows that); such alerts are named after
 * their `sid`. A custom action (or Splunk SOAR-style forwarder) may send every row as
 * `results: [...]`; each row becomes one alert. Splunk gives rows no id, so the fingerprint is the hash
 * of search name and key observables. Field names are the CIM ones (src, dest, user, url, file_hash…).
 */
export const mapSplunk: AlertMapper = (payload, receivedAt) => {
  const body = requireObject(payload, "", "body");
  const sid = text(body, "sid");
  const searchName =
    text(body, "search_name") ?? (sid !== undefined ? `Splunk search ${sid}` : "Splunk alert");
  let rows: unknown[];
  let base: string;
  if (Array.isArray(body.results)) {
    if (body.results.length === 0)
      throw new AlertMappingError("results", "is empty: expected at least one result");
    rows = body.results;
    base = "results";
  } else if (isObject(body.result)) {
    rows = [body.result];
    base = "result";
  } else {
    throw new AlertMappingError("result", "missing: expected the result object (or a results array)");
  }
  return rows.map((row, i) =>
    one(body, searchName, row, base === "result" ? "result" : `results[${i}]`, receivedAt),
  );
};

function one(body: Json, searchName: string, row: unknown, where: string, receivedAt: number): MappedAlert {
  const r = requireObject(row, "", where);
  const o = new Observables();
  for (const f of ["src_ip", "src", "client_ip", "source_ip"]) o.add("ip", r[f], `${where}.${f}`, "src");
  for (const f of ["dest_ip", "dest", "dst_ip"]) o.add("ip", r[f], `${where}.${f}`, "dst");
  for (const f of ["src", "dest", "host", "dest_host", "src_host", "dvc"]) {
    if (typeof r[f] === "string" && !/^[\d.:]+$/.test(r[f] as string)) o.add("host", r[f], `${where}.${f}`);
  }
  for (const f of ["user", "src_user", "dest_user", "user_name"]) o.add("user", r[f], `${where}.${f}`);
  o.add("url", r.url, `${where}.url`);
  for (const f of ["domain", "query", "dest_domain", "url_domain"]) o.add("domain", r[f], `${where}.${f}`);
  for (const f of ["file_hash", "hash", "md5", "sha1", "sha256"]) o.add("hash", r[f], `${where}.${f}`);
  for (const f of ["process", "process_name", "parent_process_name"]) o.add("process", r[f], `${where}.${f}`);
  for (const f of ["sender", "recipient", "src_user_email"]) o.add("email", r[f], `${where}.${f}`);
  const time = timeOf(r._time) ?? receivedAt;
  const severity = text(r, "severity") ?? text(r, "urgency");
  const host = text(r, "host") ?? text(r, "dest");
  const sid = text(body, "sid");
  const named = text(body, "search_name") !== undefined;
  return {
    rule: searchName,
    time,
    severity_id: severityFromWord(severity, 3),
    title: text(r, "title") ?? text(r, "signature") ?? searchName,
    ...(text(r, "description") !== undefined ? { desc: text(r, "description")! } : {}),
    types: [...(named ? [searchName] : []), ...(text(body, "app") ? [`app:${text(body, "app")}`] : [])],
    ...(text(body, "results_link") !== undefined ? { src_url: text(body, "results_link")! } : {}),
    analytic: { name: searchName, ...(sid !== undefined ? { uid: sid } : {}) },
    resources: host ? [resource("host", { name: host })] : [],
    observables: o.list(),
    product: { name: "Splunk", vendor_name: "Splunk" },
    raw: {
      ...r,
      _envelope: {
        sid: at(body, "sid"),
        search_name: at(body, "search_name"),
        app: at(body, "app"),
        owner: at(body, "owner"),
        results_link: at(body, "results_link"),
      },
    },
  };
}
