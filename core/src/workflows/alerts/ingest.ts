import type { DedupeService } from "../../dedupe/service.js";
import type { Clock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import { newRunId } from "../../runner/run-store.js";
import { fingerprintOf, sha256Hex } from "./fingerprint.js";
import { AlertMappingError, MAPPERS, type MappedAlert } from "./mappers/index.js";
import type { AlertMetrics } from "./metrics.js";
import { type NormalisedAlert, normalisedAlertSchema, severityCaption } from "./ocsf.js";
import { runIndexKey } from "./run-index.js";
import type { WebhookSource, WebhookSourceStore } from "./sources.js";
import type { AlertRecord, AlertStore } from "./store.js";
import { verifyDelivery } from "./verify.js";

export { runIndexKey };

/** A refused delivery: the route answers `status` with `detail`; nothing of it was stored. */
export class AlertIngestError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 415 | 422,
    /** Machine-readable reason (also the metrics label). */
    readonly reason: string,
    detail: string,
    readonly extra: { path?: string; challenge?: string } = {},
  ) {
    super(detail);
    this.name = "AlertIngestError";
  }
}

export interface Delivery {
  sourceId: string;
  header(name: string): string | undefined;
  /** The raw body bytes as received (a signature covers exactly these). */
  body: Uint8Array;
}

export interface IngestedAlert {
  id: string;
  fingerprint: string;
  duplicate: boolean;
  runId?: string;
}

export interface AlertIngestorDeps {
  kv: KeyValue;
  clock: Clock;
  dedupe: DedupeService;
  sources: WebhookSourceStore;
  store: AlertStore;
  /** Starts (idempotently: same alert, same run) the triage run for a new alert. */
  startTriage(alert: NormalisedAlert, sourceId: string): Promise<{ runId: string }>;
  metrics: AlertMetrics;
  defaults: { toleranceMs: number; dedupeWindowMs: number; relatedWindowMs: number };
}

/** A claim on a fingerprint protects its holder this long; a crashed holder's claim is then taken over. */
const CLAIM_IN_PROGRESS_MS = 30_000;
const OBSERVABLE_PREFIX = "alerts/observables/";
const REPLAY_PREFIX = "alerts/replay/";
const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;
/** Suricata shippers may post newline-delimited JSON. */
const NDJSON_TYPE = /^application\/(x-)?ndjson\s*(;|$)/i;

/**
 * Webhook delivery → stored alerts with their triage runs. A delivery is verified, parsed and mapped
 * completely before anything is written, so a refused one leaves no trace; each alert is then claimed by
 * fingerprint through the DedupeService (one winner across replicas), stored, linked to related alerts
 * and its triage run started, all before the caller is told 202.
 */
export class AlertIngestor {
  constructor(private readonly deps: AlertIngestorDeps) {}

  async ingest(delivery: Delivery): Promise<{ source: WebhookSource; alerts: IngestedAlert[] }> {
    const { deps } = this;
    const source = await deps.sources.get(delivery.sourceId);
    if (!source) {
      throw this.reject(
        delivery.sourceId,
        404,
        "unknown_source",
        `no webhook source "${delivery.sourceId}": create it with POST /v1/alert-sources (or in configuration)`,
      );
    }
    if (source.disabled) {
      throw this.reject(
        source.id,
        403,
        "source_disabled",
        `webhook source "${source.id}" is disabled; re-enable it with POST /v1/alert-sources/${source.id}/enable`,
      );
    }
    const type = delivery.header("content-type") ?? "";
    const ndjson = NDJSON_TYPE.test(type);
    if (!JSON_TYPE.test(type) && !(ndjson && source.format === "suricata")) {
      throw this.reject(
        source.id,
        415,
        "unsupported_media_type",
        `alerts must be JSON: send Content-Type: application/json${source.format === "suricata" ? " (or application/x-ndjson)" : ""} (got ${type === "" ? "none" : JSON.stringify(type)})`,
      );
    }
    if (delivery.body.byteLength > source.maxBodyBytes) {
      throw this.reject(
        source.id,
        413,
        "payload_too_large",
        `the body is ${delivery.body.byteLength} bytes; source "${source.id}" accepts at most ${source.maxBodyBytes} (maxBodyBytes)`,
      );
    }
    const now = deps.clock.now();
    const auth = verifyDelivery(source, delivery.header, delivery.body, {
      now,
      toleranceMs: source.toleranceMs ?? deps.defaults.toleranceMs,
    });
    if (!auth.ok) throw this.reject(source.id, 401, auth.reason, auth.detail, { challenge: auth.challenge });

    const payload = parseBody(delivery.body, ndjson, (detail) =>
      this.reject(source.id, 400, "malformed_json", detail),
    );
    let mapped: MappedAlert[];
    try {
      mapped = MAPPERS[source.format](payload, now);
    } catch (error) {
      if (error instanceof AlertMappingError) {
        throw this.reject(
          source.id,
          422,
          "unreadable_payload",
          `the ${source.format} payload cannot be read: ${error.path} ${error.problem}`,
          { path: error.path },
        );
      }
      throw error;
    }

    // Only a delivery that passed every check marks its signature as used; a later failure unmarks it so
    // the sender's retry of the same request is not taken for a replay.
    let replayKey: string | undefined;
    if (auth.replayKey !== undefined) {
      replayKey = `${REPLAY_PREFIX}${source.id}/${sha256Hex(auth.replayKey)}`;
      const marked = await deps.kv.setIfAbsent(
        replayKey,
        { at: now },
        { ttlMs: auth.replayTtlMs ?? 600_000 },
      );
      if (!marked.ok) {
        throw this.reject(
          source.id,
          401,
          "replayed_signature",
          "this signature was used before: sign each delivery anew (a replayed request is refused within the tolerance window)",
        );
      }
    }
    try {
      const alerts: IngestedAlert[] = [];
      for (const item of mapped) alerts.push(await this.ingestOne(source, item, now));
      return { source, alerts };
    } catch (error) {
      if (replayKey !== undefined) await deps.kv.delete(replayKey).catch(() => false);
      throw error;
    }
  }

  private async ingestOne(
    source: WebhookSource,
    mapped: MappedAlert,
    receivedAt: number,
  ): Promise<IngestedAlert> {
    const { deps } = this;
    const fingerprint = fingerprintOf(source.id, source.format, mapped);
    const claimKey = `alerts/fingerprints/${source.id}/${sha256Hex(fingerprint)}`;
    const window = source.dedupeWindowMs ?? deps.defaults.dedupeWindowMs;
    for (let waited = 0; ; ) {
      const claim = await deps.dedupe.claim(claimKey, {
        expiresAfterMs: window,
        inProgressExpiryMs: CLAIM_IN_PROGRESS_MS,
      });
      if (claim.status === "duplicate") {
        const alertId = (claim.result as { alertId: string }).alertId;
        const merged = await deps.store.update(alertId, (r) => ({
          ...r,
          alert: { ...r.alert, count: r.alert.count + 1, last_seen: Math.max(r.alert.last_seen, receivedAt) },
          timeline: [
            ...r.timeline,
            {
              at: receivedAt,
              by: `source:${source.id}`,
              type: "duplicate_merged",
              details: { count: r.alert.count + 1 },
            },
          ],
        }));
        if (merged) {
          deps.metrics.duplicate(source.id);
          return {
            id: alertId,
            fingerprint,
            duplicate: true,
            ...(merged.runs[0] ? { runId: merged.runs[0].runId } : {}),
          };
        }
        // The alert was deleted while its claim lived on: forget that claim and treat the delivery as new.
        await this.forgetClaimOf(claimKey, alertId);
      } else if (claim.status === "in_progress") {
        // Another replica is storing this very alert: wait for its result (or for its claim to lapse).
        const pause = Math.min(200, 10 + waited / 10);
        await new Promise((resolve) => setTimeout(resolve, pause));
        waited += pause;
      } else if (claim.status === "claimed") {
        try {
          const created = await this.create(source, mapped, fingerprint, receivedAt);
          await deps.dedupe.complete(claimKey, { alertId: created.id }, claim);
          return created;
        } catch (error) {
          await deps.dedupe.release(claimKey, claim).catch(() => false);
          throw error;
        }
      }
    }
  }

  /**
   * Deletes the completed claim only while it still names the deleted alert, at the version read: a
   * blind delete could remove the fresh claim another replica made meanwhile and let both create the alert.
   */
  private async forgetClaimOf(claimKey: string, alertId: string): Promise<void> {
    const key = this.deps.dedupe.recordKey(claimKey);
    const entry = await this.deps.kv.get<{ status?: string; result?: { alertId?: string } }>(key);
    if (entry?.value.status !== "completed" || entry.value.result?.alertId !== alertId) return;
    await this.deps.kv.delete(key, { expectedVersion: entry.version }).catch(() => false);
  }

  private async create(
    source: WebhookSource,
    mapped: MappedAlert,
    fingerprint: string,
    receivedAt: number,
  ): Promise<IngestedAlert> {
    const { deps } = this;
    const id = newRunId(receivedAt);
    const alert = normalisedAlertSchema.parse({
      id,
      source: source.id,
      format: source.format,
      fingerprint,
      first_seen: receivedAt,
      last_seen: receivedAt,
      count: 1,
      time: mapped.time,
      severity_id: mapped.severity_id,
      severity: severityCaption(mapped.severity_id),
      status: "New",
      title: mapped.title,
      ...(mapped.desc !== undefined ? { desc: mapped.desc } : {}),
      finding_info: {
        uid: mapped.nativeId ?? fingerprint,
        title: mapped.title,
        types: mapped.types,
        ...(mapped.src_url !== undefined ? { src_url: mapped.src_url } : {}),
        ...(mapped.analytic !== undefined ? { analytic: mapped.analytic } : {}),
      },
      resources: mapped.resources,
      observables: mapped.observables,
      metadata: { product: mapped.product },
      raw: mapped.raw,
    });
    const record: AlertRecord = {
      alert,
      status: "new",
      runs: [],
      related: [],
      notes: [],
      timeline: [
        {
          at: receivedAt,
          by: `source:${source.id}`,
          type: "received",
          details: { format: source.format, fingerprint },
        },
      ],
      enrichment: {},
    };
    await deps.store.create(record);
    const indexKeys: string[] = [];
    try {
      const related = await this.linkRelated(source, alert, indexKeys);
      const { runId } = await deps.startTriage(alert, source.id);
      await deps.kv.set(runIndexKey(runId), { alertId: id }, { ttlMs: 30 * 86_400_000 });
      await deps.store.update(id, (r) => ({
        ...r,
        related: [...new Set([...r.related, ...related])],
        runs: r.runs.some((x) => x.runId === runId) ? r.runs : [...r.runs, { runId, at: deps.clock.now() }],
        timeline: [
          ...r.timeline,
          { at: deps.clock.now(), by: `source:${source.id}`, type: "triage_enqueued", details: { runId } },
        ],
      }));
      deps.metrics.ingested(source.id, source.format);
      return { id, fingerprint, duplicate: false, runId };
    } catch (error) {
      // Nothing half-made is left behind: the sender's retry starts over.
      for (const key of indexKeys) await deps.kv.delete(key).catch(() => false);
      await deps.store.delete(id).catch(() => undefined);
      throw error;
    }
  }

  /** Alerts that shared an observable within the window, linked both ways. */
  private async linkRelated(
    source: WebhookSource,
    alert: NormalisedAlert,
    indexKeys: string[],
  ): Promise<string[]> {
    const { deps } = this;
    const ttlMs = source.relatedWindowMs ?? deps.defaults.relatedWindowMs;
    const related = new Set<string>();
    for (const o of alert.observables) {
      const prefix = `${OBSERVABLE_PREFIX}${sha256Hex(`${o.type}\n${o.value.toLowerCase()}`).slice(0, 32)}/`;
      const page = await deps.kv.list<{ alertId: string }>(prefix, { limit: 50 });
      for (const e of page.entries) if (e.value.alertId !== alert.id) related.add(e.value.alertId);
      const key = prefix + alert.id;
      await deps.kv.set(key, { alertId: alert.id }, { ttlMs });
      indexKeys.push(key);
    }
    for (const other of related) {
      await deps.store.update(other, (r) =>
        r.related.includes(alert.id)
          ? undefined
          : {
              ...r,
              related: [...r.related, alert.id],
              timeline: [
                ...r.timeline,
                {
                  at: deps.clock.now(),
                  by: `source:${source.id}`,
                  type: "related_linked",
                  details: { alertId: alert.id },
                },
              ],
            },
      );
    }
    return [...related];
  }

  private reject(
    sourceId: string,
    status: AlertIngestError["status"],
    reason: string,
    detail: string,
    extra: AlertIngestError["extra"] = {},
  ): AlertIngestError {
    this.deps.metrics.rejected(sourceId, reason);
    return new AlertIngestError(status, reason, detail, extra);
  }
}

function parseBody(raw: Uint8Array, ndjson: boolean, fail: (detail: string) => Error): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw fail("the body is not valid UTF-8: send JSON text");
  }
  try {
    if (ndjson) {
      return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line));
    }
    return JSON.parse(text);
  } catch (error) {
    throw fail(`the body is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}
