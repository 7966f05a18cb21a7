import {
  at,
  Observables,
  requireObject,
  requireText,
  requireTime,
  resource,
  severityFromWord,
  text,
} from "./read.js";
import type { AlertMapper } from "./types.js";

/**
 * A Falco event forwarded by falcosidekick's webhook output: `{ uuid, output, priority, rule, time,
 * output_fields, source, tags, hostname }`. falcosidekick's uuid is the identity.
 */
export const mapFalco: AlertMapper = (payload) => {
  const event = requireObject(payload, "", "body");
  const rule = requireText(event, "rule", "rule");
  const priority = requireText(event, "priority", "priority");
  const time = requireTime(event, "time", "time");
  const fields = (at(event, "output_fields") ?? {}) as Record<string, unknown>;
  const f = (name: string) => (typeof fields === "object" && fields !== null ? fields[name] : undefined);
  const o = new Observables();
  o.add("ip", f("fd.sip"), "output_fields.fd.sip", "dst");
  o.add("ip", f("fd.cip"), "output_fields.fd.cip", "src");
  o.add("ip", f("fd.rip"), "output_fields.fd.rip", "remote");
  o.add("domain", f("fd.sip.name"), "output_fields.fd.sip.name");
  o.add("user", f("user.name"), "output_fields.user.name", "actor");
  o.add("user", f("user.loginname"), "output_fields.user.loginname", "actor");
  o.add("user", f("ka.user.name"), "output_fields.ka.user.name", "actor");
  o.add("process", f("proc.name"), "output_fields.proc.name");
  o.add("process", f("proc.pname"), "output_fields.proc.pname", "parent");
  o.add("host", event.hostname, "hostname", "target");
  for (const h of ["proc.exe.sha256", "container.image.digest"]) o.add("hash", f(h), `output_fields.${h}`);
  const resources = [];
  if (typeof f("k8s.pod.name") === "string") {
    resources.push(
      resource("pod", {
        name: f("k8s.pod.name") as string,
        labels: strings({ namespace: f("k8s.ns.name") }),
      }),
    );
  }
  if (typeof f("container.id") === "string" && f("container.id") !== "host") {
    resources.push(
      resource("container", {
        uid: f("container.id") as string,
        name: text(fields, "container.name"),
        labels: strings({ image: f("container.image.repository") }),
      }),
    );
  }
  if (typeof event.hostname === "string") resources.push(resource("host", { name: event.hostname }));
  const tags = Array.isArray(event.tags) ? event.tags.filter((t): t is string => typeof t === "string") : [];
  const uuid = text(event, "uuid");
  return [
    {
      ...(uuid !== undefined ? { nativeId: uuid } : {}),
      rule,
      time,
      severity_id: falcoSeverity(priority),
      title: rule,
      ...(text(event, "output") !== undefined ? { desc: text(event, "output")! } : {}),
      types: [rule, ...tags],
      analytic: { name: rule },
      resources,
      observables: o.list(),
      product: { name: "Falco", vendor_name: "Falco (CNCF)" },
      raw: payload,
    },
  ];
};

/** Falco priorities (syslog-like) to OCSF. */
function falcoSeverity(priority: string): number {
  const table: Record<string, number> = {
    emergency: 5,
    alert: 5,
    critical: 5,
    error: 4,
    warning: 3,
    notice: 2,
    informational: 1,
    info: 1,
    debug: 1,
  };
  return table[priority.toLowerCase()] ?? severityFromWord(priority, 0);
}

function strings(fields: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}
