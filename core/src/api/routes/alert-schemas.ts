import { z } from "zod";
import {
  ALERT_FORMATS,
  ALERT_STATUSES,
  normalisedAlertSchema,
  observableSchema,
  SEVERITIES,
} from "../../workflows/alerts/ocsf.js";
import { SOURCE_AUTH_MODES } from "../../workflows/alerts/sources.js";
import { RESOLUTIONS } from "../../workflows/alerts/store.js";

/**
 * What the alert and source routes take and answer, for the OpenAPI document (and so the SDK's types).
 * The handlers build exactly these shapes (alerts.ts `summary`, sources.ts `publicSource`).
 */

const isoTime = () => z.string().meta({ description: "ISO 8601 time (UTC)." });

export const alertResolutionSchema = z
  .object({ kind: z.enum(RESOLUTIONS), comment: z.string().optional() })
  .meta({ id: "AlertResolution" });

export const alertSummarySchema = z
  .object({
    id: z.string(),
    title: z.string(),
    severity: z.enum(SEVERITIES),
    severity_id: z.number().int(),
    status: z.enum(ALERT_STATUSES),
    assignee: z.string().optional(),
    resolution: alertResolutionSchema.optional(),
    source: z.string().meta({ description: "The webhook source id it arrived through." }),
    format: z.enum(ALERT_FORMATS),
    fingerprint: z.string(),
    time: isoTime(),
    first_seen: isoTime(),
    last_seen: isoTime(),
    count: z.number().int().meta({ description: "Deliveries merged into this alert." }),
    observables: z.array(observableSchema.meta({ id: "AlertObservable" })),
    related: z.array(z.string()).meta({ description: "Ids of alerts sharing an observable." }),
    links: z.object({ self: z.string() }),
  })
  .meta({ id: "AlertSummary" });

export const alertPageSchema = z
  .object({
    items: z.array(alertSummarySchema),
    cursor: z
      .string()
      .optional()
      .meta({ description: "Pass as `cursor` for the next page; absent on the last." }),
  })
  .meta({ id: "AlertPage" });

export const alertNoteSchema = z
  .object({ id: z.string(), at: isoTime(), by: z.string(), text: z.string() })
  .meta({ id: "AlertNote" });

export const alertTimelineEntrySchema = z
  .object({
    at: isoTime(),
    by: z
      .string()
      .meta({ description: "Principal id, source:<id> for deliveries, run:<id> for the triage run." }),
    type: z.string().meta({
      description:
        "received, duplicate_merged, related_linked, triage_started, approval_requested, approval_granted, approval_rejected, triage_finished, status_changed, assigned, note_added, chat_message, …",
    }),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: "AlertTimelineEntry" });

export const alertDetailSchema = alertSummarySchema
  .extend({
    alert: normalisedAlertSchema.meta({
      id: "NormalisedAlert",
      description:
        "The OCSF Detection Finding (class 2004) subset with our id and grouping fields; times in epoch ms.",
    }),
    raw: z.unknown().meta({ description: "The payload item as received." }),
    enrichment: z
      .record(z.string(), z.unknown())
      .meta({ description: "Threat-intel results by observable value." }),
    runs: z.array(
      z.object({
        runId: z.string(),
        at: isoTime(),
        status: z.string(),
        planId: z.string().optional(),
        links: z.object({ self: z.string() }),
      }),
    ),
    related: z.array(alertSummarySchema),
    notes: z.array(alertNoteSchema),
    timeline: z.array(alertTimelineEntrySchema),
  })
  .meta({ id: "AlertDetail" });

export const alertSourceSchema = z
  .object({
    id: z.string(),
    format: z.enum(ALERT_FORMATS),
    auth: z.object({
      mode: z.enum(SOURCE_AUTH_MODES),
      header: z.string().optional(),
      username: z.string().optional(),
    }),
    secrets: z
      .array(z.object({ id: z.string(), createdAt: isoTime() }))
      .meta({ description: "The active secrets, newest first: ids and ages only, never values." }),
    disabled: z.boolean(),
    description: z.string().optional(),
    toleranceMs: z.number().int().optional(),
    maxBodyBytes: z.number().int(),
    dedupeWindowMs: z.number().int().optional(),
    relatedWindowMs: z.number().int().optional(),
    createdAt: z.number().int().meta({ description: "Epoch ms." }),
    updatedAt: z.number().int().meta({ description: "Epoch ms." }),
    origin: z
      .enum(["api", "config"])
      .meta({ description: "config: defined in alerts.sources, read-only through the API." }),
  })
  .meta({ id: "AlertSource" });

export const alertSourceWithSecretSchema = z
  .object({
    source: alertSourceSchema,
    secret: z.string().meta({ description: "The secret's value: shown this once." }),
    test: z.string().optional().meta({ description: "Where to see how to sign a delivery." }),
  })
  .meta({ id: "AlertSourceWithSecret" });

export const alertSourceListSchema = z
  .object({ items: z.array(alertSourceSchema) })
  .meta({ id: "AlertSourceList" });

export const webhookDeliverySchema = z
  .object({
    source: z.string(),
    accepted: z.number().int(),
    alerts: z.array(
      z.object({
        id: z.string(),
        fingerprint: z.string(),
        duplicate: z.boolean(),
        runId: z.string().optional(),
      }),
    ),
  })
  .meta({ id: "WebhookDelivery" });

export const webhookTestSchema = z
  .object({
    source: z.string(),
    format: z.enum(ALERT_FORMATS),
    url: z.string(),
    auth: z.enum(SOURCE_AUTH_MODES),
    how: z.string(),
    activeSecrets: z.number().int(),
    curl: z.string(),
    sample: z.string(),
  })
  .meta({ id: "WebhookTestInstructions" });
