import * as z from "zod/mini";
import { type Clock, systemClock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";
import { type CheckOptions, hasJsonSchemas } from "./checks.js";
import { loadJsonSchemaReader } from "./json-schema.js";
import type { PlanRepository, PlanSummary, PlanVersionInfo, StoredPlan } from "./repository.js";
import { planDefinition, planId, WORKFLOWS } from "./schema.js";

/**
 * Plans published at run time (no redeploy), versioned in the KeyValue store:
 * - `plans/<id>/v/<version, 10 digits>` holds each version, written once with setIfAbsent and never
 *   changed, so `get(id, version)` is stable forever;
 * - `plan-heads/<id>` holds the current version, moved forward with compareAndSet.
 * Two concurrent publishes of one plan get distinct versions; neither overwrites the other.
 */

const versionRecord = z.object({
  id: z.string(),
  version: z.number().check(z.int(), z.minimum(1)),
  hash: z.string(),
  source: z.string(),
  definition: z.unknown(),
  publishedAt: z.number(),
  publishedBy: z.optional(z.string()),
});
type VersionRecord = z.infer<typeof versionRecord>;

const headRecord = z.object({
  id: z.string(),
  version: z.number().check(z.int(), z.minimum(1)),
  hash: z.string(),
  workflow: z.enum(WORKFLOWS),
  title: z.string(),
  description: z.optional(z.string()),
  publishedAt: z.number(),
});
type HeadRecord = z.infer<typeof headRecord>;

export interface PlanPublishOptions {
  publishedBy?: string;
  clock?: Clock;
  /** Name used in error positions (`plan.yaml:3:5 …`). */
  file?: string;
}

export interface PlanPublishResult {
  id: string;
  version: number;
  /** True when the content equals the current version: nothing was written. */
  unchanged: boolean;
  hash: string;
  publishedAt: number;
}

const MAX_PUBLISH_ATTEMPTS = 100;

export class KvPlanRepository implements PlanRepository {
  constructor(
    private readonly kv: KeyValue,
    private readonly options: CheckOptions & { clock?: Clock } = {},
  ) {}

  /**
   * Validate and store a plan as its next version. The file's own `version` is ignored: the stored
   * source gets the assigned version written into it. Throws PlanLoadFailure with every error.
   */
  async publish(text: string, options: PlanPublishOptions = {}): Promise<PlanPublishResult> {
    // The plan loader and the YAML parser are loaded by the first publish, not with the repository:
    // a serverless worker reads stored definitions (checked with zod) and never parses YAML, and the
    // parser is 112 KiB of its cold start (docs/benchmarks.md, cold start).
    const [{ loadPlanFile, PlanLoadFailure }, { planContentHash, withVersion }] = await Promise.all([
      import("./loader.js"),
      import("./yaml-version.js"),
    ]);
    const loaded = loadPlanFile(text, { ...this.options, file: options.file ?? "plan.yaml" });
    if (!loaded.ok) throw new PlanLoadFailure(loaded.errors);
    const { id } = loaded.definition;
    const hash = planContentHash(text);
    const clock = options.clock ?? this.options.clock ?? systemClock;

    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt++) {
      const head = await this.head(id);
      if (head?.value.hash === hash) {
        return {
          id,
          version: head.value.version,
          unchanged: true,
          hash,
          publishedAt: head.value.publishedAt,
        };
      }
      const version = (head?.value.version ?? 0) + 1;
      const record: VersionRecord = {
        id,
        version,
        hash,
        source: withVersion(text, version),
        definition: { ...loaded.definition, version },
        publishedAt: clock.now(),
        ...(options.publishedBy !== undefined ? { publishedBy: options.publishedBy } : {}),
      };
      const written = await this.kv.setIfAbsent(versionKey(id, version), record);
      if (written.ok) {
        await this.advanceHead(record);
        return { id, version, unchanged: false, hash, publishedAt: record.publishedAt };
      }
      // Someone else took this version number (or its publisher died before moving the head):
      // move the head past it on their behalf, then try the next number.
      const taken = versionRecord.safeParse(written.current?.value);
      if (!taken.success) continue;
      await this.advanceHead(taken.data);
      if (taken.data.hash === hash) {
        return {
          id,
          version: taken.data.version,
          unchanged: true,
          hash,
          publishedAt: taken.data.publishedAt,
        };
      }
    }
    throw new Error(
      `could not publish plan "${id}": the version number kept being taken by concurrent publishes (${MAX_PUBLISH_ATTEMPTS} attempts); try again`,
    );
  }

  async list(): Promise<PlanSummary[]> {
    const out: PlanSummary[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(HEAD_PREFIX, { ...(cursor ? { cursor } : {}), limit: 100 });
      for (const entry of page.entries) {
        const head = headRecord.parse(entry.value);
        out.push({
          id: head.id,
          version: head.version,
          workflow: head.workflow,
          title: head.title,
          ...(head.description !== undefined ? { description: head.description } : {}),
          origin: "kv",
        });
      }
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  async get(id: string, version?: number): Promise<StoredPlan | undefined> {
    if (!planId.safeParse(id).success) return undefined;
    const wanted = version ?? (await this.head(id))?.value.version;
    if (wanted === undefined) return undefined;
    const entry = await this.kv.get(versionKey(id, wanted));
    if (!entry) return undefined;
    const stored = this.toStored(versionRecord.parse(entry.value));
    // A runner re-checks the plan when it compiles it, JSON Schemas included: their reader is classic
    // zod's, loaded here on first need rather than at start (json-schema.ts).
    if (hasJsonSchemas(stored.definition)) await loadJsonSchemaReader();
    return stored;
  }

  async versions(id: string): Promise<PlanVersionInfo[]> {
    if (!planId.safeParse(id).success) return [];
    const out: PlanVersionInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(`plans/${id}/v/`, { ...(cursor ? { cursor } : {}), limit: 100 });
      for (const entry of page.entries) {
        const record = versionRecord.parse(entry.value);
        out.push({
          id,
          version: record.version,
          origin: "kv",
          hash: record.hash,
          publishedAt: record.publishedAt,
          ...(record.publishedBy !== undefined ? { publishedBy: record.publishedBy } : {}),
        });
      }
      cursor = page.cursor;
    } while (cursor);
    return out;
  }

  private async head(id: string): Promise<{ value: HeadRecord; kvVersion: number } | undefined> {
    const entry = await this.kv.get(headKey(id));
    return entry ? { value: headRecord.parse(entry.value), kvVersion: entry.version } : undefined;
  }

  /** Move the head to `record` unless it already points at that version or a later one. */
  private async advanceHead(record: VersionRecord): Promise<void> {
    const definition = planDefinition.parse(record.definition);
    const next: HeadRecord = {
      id: record.id,
      version: record.version,
      hash: record.hash,
      workflow: definition.workflow,
      title: definition.title,
      ...(definition.description !== undefined ? { description: definition.description } : {}),
      publishedAt: record.publishedAt,
    };
    // Every failed compareAndSet means another writer moved the head, so this ends quickly.
    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt++) {
      const head = await this.head(record.id);
      if (head && head.value.version >= record.version) return;
      const moved = await this.kv.compareAndSet(headKey(record.id), next, head?.kvVersion ?? 0);
      if (moved.ok) return;
    }
    throw new Error(
      `could not move plan "${record.id}" to version ${record.version}: the head kept changing`,
    );
  }

  private toStored(record: VersionRecord): StoredPlan {
    const parsed = planDefinition.safeParse(record.definition);
    if (!parsed.success) {
      throw new Error(
        `stored plan "${record.id}" version ${record.version} does not match the plan schema any more: ${parsed.error.message}`,
      );
    }
    return {
      definition: parsed.data,
      version: record.version,
      source: record.source,
      origin: "kv",
      publishedAt: record.publishedAt,
      ...(record.publishedBy !== undefined ? { publishedBy: record.publishedBy } : {}),
    };
  }
}

const HEAD_PREFIX = "plan-heads/";

function headKey(id: string): string {
  return `${HEAD_PREFIX}${id}`;
}

function versionKey(id: string, version: number): string {
  return `plans/${id}/v/${String(version).padStart(10, "0")}`;
}
