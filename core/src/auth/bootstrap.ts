import type { ApiKeyStore, BootstrapMarker } from "./api-key-store.js";

/** createdBy of keys made here; such keys do not count as "keys already exist". */
export const BOOTSTRAP_CREATOR = "system:bootstrap";
const BOOTSTRAP_NAME = "bootstrap admin";

export type BootstrapOutcome =
  /** This call made the first admin key: print `key` once, it cannot be recovered later. */
  | { status: "generated"; id: string; key: string }
  /** The configured key was stored (hashed) by this call. */
  | { status: "imported"; id: string }
  /** Nothing to do: a key was bootstrapped before, or keys already existed. */
  | { status: "existing"; id?: string; revoked?: boolean };

export interface BootstrapOptions {
  /** config auth.bootstrapAdminKey: imported instead of generating a key. */
  configuredKey?: string;
}

/**
 * Makes sure an admin can get in on first start. With a configured key, that key is imported (once; a
 * revoked import stays revoked). Otherwise, when no key exists yet, an admin key is generated: replicas
 * starting at once each create a candidate and race on the marker with setIfAbsent; losers delete their
 * candidate, so exactly one key survives and exactly one caller sees it.
 */
export async function ensureBootstrapAdminKey(
  store: ApiKeyStore,
  options: BootstrapOptions = {},
): Promise<BootstrapOutcome> {
  if (options.configuredKey !== undefined) {
    const outcome = await store.importKey({
      key: options.configuredKey,
      name: BOOTSTRAP_NAME,
      roles: ["admin"],
      createdBy: BOOTSTRAP_CREATOR,
    });
    await store.claimBootstrapMarker({ id: outcome.record.id, source: "configured" });
    if (outcome.status === "imported") return { status: "imported", id: outcome.record.id };
    return { status: "existing", id: outcome.record.id, revoked: outcome.record.status === "revoked" };
  }
  const marker = await store.readBootstrapMarker();
  if (marker !== undefined) return existing(marker);
  // Candidates of replicas racing right now are bootstrap keys too; only keys made by people count here.
  const keys = await store.list();
  if (keys.some((key) => key.createdBy !== BOOTSTRAP_CREATOR)) {
    const claim = await store.claimBootstrapMarker({ source: "pre-existing keys" });
    return existing(claim.marker);
  }
  // The candidate is written before the marker, so a crash in between leaves an unusable key whose
  // secret nobody saw, never a marker pointing at a key that does not exist.
  const candidate = await store.create({
    name: BOOTSTRAP_NAME,
    roles: ["admin"],
    createdBy: BOOTSTRAP_CREATOR,
  });
  const claim = await store.claimBootstrapMarker({ id: candidate.id, source: "generated" });
  if (claim.won) return { status: "generated", id: candidate.id, key: candidate.key };
  await store.remove(candidate.id);
  return existing(claim.marker);
}

function existing(marker: BootstrapMarker): BootstrapOutcome {
  return marker.id === undefined ? { status: "existing" } : { status: "existing", id: marker.id };
}
