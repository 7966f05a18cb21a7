import { z } from "zod";
import { OBSERVABLE_TYPES, resourceSchema } from "../ocsf.js";
import { AlertMappingError, isObject, Observables, severityFromWord, timeOf } from "./read.js";
import type { AlertMapper, MappedAlert } from "./types.js";

/**
 * Our own documented alert JSON (docs/workflows-alerts.md, "generic"): one object, or `{ "alerts": [...] }`.
 * Fields beyond these are kept in raw.
 */
export const genericAlertSchema = z.looseObject({
  id: z.string().min(1).optional(),
  title: z.string().min(1),
  description: z.string().optional(),
  severity: z.union([z.string().min(1), z.number().int().min(0).max(6)]).default("medium"),
  time: z.union([z.string(), z.number()]).optional(),
  rule: z.string().min(1).optional(),
  types: z.array(z.string()).default([]),
  url: z.string().optional(),
  product: z.string().min(1).default("generic"),
  vendor: z.string().optional(),
  observables: z
    .array(
      z.looseObject({
        type: z.enum(OBSERVABLE_TYPES),
        value: z.string().min(1),
        role: z.string().optional(),
      }),
    )
    .default([]),
  resources: z.array(resourceSchema).default([]),
});

export const mapGeneric: AlertMapper = (payload, receivedAt) => {
  if (isObject(payload) && Array.isArray(payload.alerts)) {
    if (payload.alerts.length === 0)
      throw new AlertMappingError("alerts", "is empty: expected at least one alert");
    return payload.alerts.map((item, i) => one(item, `alerts[${i}]`, receivedAt));
  }
  return [one(payload, "", receivedAt)];
};

function one(item: unknown, where: string, receivedAt: number): MappedAlert {
  const parsed = genericAlertSchema.safeParse(item);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = [where, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    throw new AlertMappingError(path === "" ? "body" : path, issue.message);
  }
  const a = parsed.data;
  const observables = new Observables();
  a.observables.forEach((o, i) => {
    observables.add(o.type, o.value, `${where ? `${where}.` : ""}observables[${i}]`, o.role);
  });
  const time = a.time === undefined ? receivedAt : timeOf(a.time);
  if (time === undefined)
    throw new AlertMappingError(`${where ? `${where}.` : ""}time`, "is not a readable timestamp");
  return {
    ...(a.id !== undefined ? { nativeId: a.id } : {}),
    rule: a.rule ?? a.title,
    time,
    severity_id: typeof a.severity === "number" ? a.severity : severityFromWord(a.severity, 0),
    title: a.title,
    ...(a.description !== undefined ? { desc: a.description } : {}),
    types: a.types,
    ...(a.url !== undefined ? { src_url: a.url } : {}),
    ...(a.rule !== undefined ? { analytic: { name: a.rule } } : {}),
    resources: a.resources,
    observables: observables.list(),
    product: { name: a.product, ...(a.vendor !== undefined ? { vendor_name: a.vendor } : {}) },
    raw: item,
  };
}
