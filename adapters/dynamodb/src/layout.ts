/**
 * The key schema (see docs/adapters.md, "DynamoDB"):
 * - `pk` (partition key, S): the bucket, i.e. the key up to and including its first "/" ("runs/" for
 *   "runs/r1/state"), or "#" for keys without a "/".
 * - `sk` (sort key, S): the whole key.
 * Every prefix that contains a "/" lies inside one bucket, so `list` is a Query on `pk` with
 * `begins_with(sk, prefix)`, in sort-key (UTF-8 byte) order.
 */
export const ATTR = {
  bucket: "pk",
  key: "sk",
  version: "ver",
  /** JSON text of any value that is not a number stored in `number`. */
  json: "v",
  /** Numbers (so `increment` is one atomic ADD on the server). */
  number: "n",
  /** Exact expiry, epoch milliseconds: reads treat the item as absent from then on. */
  expiresAt: "exp",
  /** The table's TTL attribute (epoch seconds): DynamoDB deletes the item some time after it. */
  ttl: "ttl",
} as const;

export const ROOT_BUCKET = "#";

/** The partition an item lives in: the key's first path segment with its "/", or "#". */
export function bucketOf(key: string): string {
  const slash = key.indexOf("/");
  return slash === -1 ? ROOT_BUCKET : key.slice(0, slash + 1);
}
