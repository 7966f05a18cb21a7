import { z } from "zod";
import { ALERT_FORMATS, type AlertFormat } from "./formats.js";

/**
 * The subset of an OCSF Detection Finding (class_uid 2004, category 2 "Findings") every alert is
 * normalised into, whatever product sent it. Field names and enum values follow OCSF 1.x so the alert
 * can be forwarded to an OCSF-aware lake unchanged; what a mapper cannot place stays in `raw`.
 *
 * This file is the contract between ingestion (the mappers) and the triage plans in plans/alerts/:
 * a triage run's input is `{ alert: NormalisedAlert }` (see `triageRunInputSchema`).
 */

export const OCSF_CLASS_UID = 2004;
export const OCSF_CATEGORY_UID = 2;

/** OCSF severity_id with its caption. 0 Unknown … 6 Fatal; 99 Other is not used by our mappers. */
export const SEVERITIES = ["Unknown", "Informational", "Low", "Medium", "High", "Critical", "Fatal"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityIdSchema = z.number().int().min(0).max(6);

export function severityCaption(id: number): Severity {
  return SEVERITIES[id] ?? "Unknown";
}

/** OCSF finding status (status_id 1 New, 2 In Progress, 3 Suppressed, 4 Resolved). */
export const FINDING_STATUSES = ["New", "In Progress", "Suppressed", "Resolved"] as const;

/** The observable kinds triage enriches; OCSF type_id values in comments. */
export const OBSERVABLE_TYPES = [
  "ip", // 2 IP Address
  "domain", // 1 Hostname (a DNS name, not a managed host)
  "url", // 6 URL String
  "hash", // 8 Hash
  "user", // 4 User Name
  "host", // 20 Endpoint (a managed machine: hostname or instance id)
  "process", // 9 Process Name
  "email", // 5 Email Address
] as const;
export type ObservableType = (typeof OBSERVABLE_TYPES)[number];

export const observableSchema = z.object({
  type: z.enum(OBSERVABLE_TYPES),
  value: z.string().min(1),
  /** The payload field it was read from, e.g. `alerts[0].labels.instance` (why the mapper believes it). */
  name: z.string().optional(),
  /** Free-form role: src, dst, actor, target, file… */
  role: z.string().optional(),
  /** Hash observables: md5, sha1, sha256. */
  algorithm: z.string().optional(),
});
export type Observable = z.infer<typeof observableSchema>;

export const resourceSchema = z.object({
  /** e.g. AwsEc2Instance, AccessKey, host, pod, container. */
  type: z.string().min(1),
  uid: z.string().optional(),
  name: z.string().optional(),
  region: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
export type Resource = z.infer<typeof resourceSchema>;

export const findingInfoSchema = z.object({
  /** The source's own id for the finding when it has one (drives the fingerprint), else generated. */
  uid: z.string().min(1),
  title: z.string().optional(),
  /** Rule / finding type names, e.g. GuardDuty's `UnauthorizedAccess:IAMUser/...` or a Wazuh rule group. */
  types: z.array(z.string()).default([]),
  /** A link back to the finding in the product's console. */
  src_url: z.string().optional(),
  /** The detection rule, when the product names one. */
  analytic: z.object({ uid: z.string().optional(), name: z.string().optional() }).optional(),
});
export type FindingInfo = z.infer<typeof findingInfoSchema>;

/** The OCSF Detection Finding subset. `time` is epoch milliseconds, as OCSF's timestamp_t. */
export const detectionFindingSchema = z.object({
  class_uid: z.literal(OCSF_CLASS_UID).default(OCSF_CLASS_UID),
  category_uid: z.literal(OCSF_CATEGORY_UID).default(OCSF_CATEGORY_UID),
  time: z.number().int().nonnegative(),
  severity_id: severityIdSchema,
  severity: z.enum(SEVERITIES),
  status: z.enum(FINDING_STATUSES).default("New"),
  title: z.string().min(1),
  desc: z.string().optional(),
  finding_info: findingInfoSchema,
  resources: z.array(resourceSchema).default([]),
  observables: z.array(observableSchema).default([]),
  metadata: z.object({
    product: z.object({
      name: z.string().min(1),
      vendor_name: z.string().optional(),
      version: z.string().optional(),
    }),
    version: z.string().default("1.3.0"),
  }),
  /** The payload item as received (for a batch, the one item plus its envelope), untouched. */
  raw: z.unknown(),
});
export type DetectionFinding = z.infer<typeof detectionFindingSchema>;
export type DetectionFindingInput = z.input<typeof detectionFindingSchema>;

/** Our alert lifecycle (distinct from the OCSF finding status, which mirrors it coarsely). */
export const ALERT_STATUSES = ["new", "triaging", "awaiting_approval", "resolved"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export { ALERT_FORMATS, type AlertFormat };

/**
 * A normalised alert as the store keeps it and as the triage run receives it: the OCSF finding plus
 * our identity and grouping fields.
 */
export const normalisedAlertSchema = detectionFindingSchema.extend({
  /** Our id (UUID). */
  id: z.string().min(1),
  /** The webhook source id it arrived through. */
  source: z.string().min(1),
  /** The source's format (which mapper read it). */
  format: z.enum(ALERT_FORMATS),
  /** Dedupe key: the source's own id when it has one, else a hash of source, rule and key observables. */
  fingerprint: z.string().min(1),
  /** When it was first received and last seen again (epoch ms); count of deliveries merged into it. */
  first_seen: z.number().int(),
  last_seen: z.number().int(),
  count: z.number().int().min(1),
});
export type NormalisedAlert = z.infer<typeof normalisedAlertSchema>;

/** The triage run: workflow `alerts`, event `alert.received`, input `{ alert }`. */
export const TRIAGE_WORKFLOW = "alerts" as const;
export const TRIAGE_EVENT = "alert.received" as const;
export const triageRunInputSchema = z.object({ alert: normalisedAlertSchema });
export type TriageRunInput = z.infer<typeof triageRunInputSchema>;
