export { canonicalJson, hashPayload } from "./canonical-json.js";
export { CLAIM_TIMEOUT_MS as PUBLISH_CLAIM_TIMEOUT_MS, PublishDedupe } from "./publish-dedupe.js";
export type { CompletedRecord, DedupeRecord, InProgressRecord } from "./records.js";
export {
  type DedupeClaim,
  type DedupeClaimOptions,
  type DedupeHold,
  DedupeService,
  type DedupeServiceOptions,
} from "./service.js";
