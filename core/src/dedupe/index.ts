export { canonicalJson, hashPayload } from "./canonical-json.js";
export type { CompletedRecord, DedupeRecord, InProgressRecord } from "./records.js";
export {
  type DedupeClaim,
  type DedupeClaimOptions,
  type DedupeHold,
  DedupeService,
  type DedupeServiceOptions,
} from "./service.js";
