import type { PlanDefinition, Workflow } from "./schema.js";

/** Where a stored plan came from: a folder of YAML files, or publishing through the API into the KV. */
export type PlanOrigin = "directory" | "kv";

export interface StoredPlan {
  definition: PlanDefinition;
  version: number;
  /** The YAML text of this version. */
  source: string;
  origin: PlanOrigin;
  /** Epoch milliseconds (KV only). */
  publishedAt?: number;
  publishedBy?: string;
  /** The file it was read from (directory only). */
  file?: string;
}

/** The current version of a plan, as lists and the planner need it. */
export interface PlanSummary {
  id: string;
  version: number;
  workflow: Workflow;
  title: string;
  description?: string;
  origin: PlanOrigin;
}

export interface PlanVersionInfo {
  id: string;
  version: number;
  origin: PlanOrigin;
  /** sha256 of the content (KV: the YAML without its `version` field). */
  hash: string;
  publishedAt?: number;
  publishedBy?: string;
  file?: string;
}

/**
 * Read access to plan definitions. `get(id)` returns the current (highest) version; `get(id, version)`
 * returns that exact version for as long as it exists, so a run can pin the version it started with.
 */
export interface PlanRepository {
  list(): Promise<PlanSummary[]>;
  get(id: string, version?: number): Promise<StoredPlan | undefined>;
  /** All versions of a plan, oldest first. */
  versions(id: string): Promise<PlanVersionInfo[]>;
}

export function summarisePlan(plan: StoredPlan): PlanSummary {
  const { definition } = plan;
  return {
    id: definition.id,
    version: plan.version,
    workflow: definition.workflow,
    title: definition.title,
    ...(definition.description !== undefined ? { description: definition.description } : {}),
    origin: plan.origin,
  };
}
