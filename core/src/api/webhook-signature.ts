import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";

/**
 * Webhook signatures: header `X-AAT-Signature: t=<unix seconds>,v1=<hex>` where the hex is
 * HMAC-SHA256(secret, `${t}.${rawBody}`). Signing the timestamp with the body lets the receiver refuse
 * replays older than its window; several `v1=` entries are accepted so senders can rotate secrets.
 */

export const SIGNATURE_HEADER = "X-AAT-Signature";

export const SIGNATURE_FORM =
  "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>' keyed with the trigger's secret>";

/** The header value for `body` signed with `secret` at `timestampSeconds`. */
export function signWebhook(secret: string, body: string | Uint8Array, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

export type SignatureCheck =
  | { ok: true; timestampSeconds: number }
  | { ok: false; reason: "missing" | "malformed" | "expired" | "mismatch"; detail: string };

export interface VerifyOptions {
  /** Epoch milliseconds now. */
  now: number;
  /** Signatures whose timestamp is further than this from now (either way) are refused. */
  replayWindowMs: number;
}

export function verifyWebhookSignature(
  header: string | undefined,
  secret: string,
  rawBody: string | Uint8Array,
  options: VerifyOptions,
): SignatureCheck {
  if (header === undefined || header.trim() === "") {
    return {
      ok: false,
      reason: "missing",
      detail: `this webhook trigger requires a signature: send header ${SIGNATURE_HEADER}: ${SIGNATURE_FORM}`,
    };
  }
  const parsed = parseSignatureHeader(header);
  if (!parsed) {
    return {
      ok: false,
      reason: "malformed",
      detail: `header ${SIGNATURE_HEADER} is malformed: expected ${SIGNATURE_FORM}`,
    };
  }
  const ageMs = Math.abs(options.now - parsed.t * 1000);
  if (ageMs > options.replayWindowMs) {
    return {
      ok: false,
      reason: "expired",
      detail: `the signature timestamp t=${parsed.t} is ${Math.round(ageMs / 1000)} s away from the server's clock; signatures are accepted for ${Math.round(options.replayWindowMs / 1000)} s (replay protection): sign each delivery with the current time`,
    };
  }
  const expected = hmac(secret, parsed.t, rawBody).digest();
  const matches = parsed.v1.some((hex) => {
    const given = Buffer.from(hex, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) {
    return {
      ok: false,
      reason: "mismatch",
      detail:
        "the signature does not match: sign the exact request body bytes as '<t>.<body>' with HMAC-SHA256 and the trigger's secret, hex-encoded",
    };
  }
  return { ok: true, timestampSeconds: parsed.t };
}

/** The usual header, one timestamp and one lower-case v1: what the general parse gives it, found at once. */
const COMMON_FORM = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/;

export function parseSignatureHeader(header: string): { t: number; v1: string[] } | undefined {
  const common = COMMON_FORM.exec(header);
  if (common) return { t: Number(common[1]), v1: [common[2]!] };
  return parseSignatureParts(header);
}

/** The general parse: comma-separated `key=value` parts, in any order, spaces around them allowed. */
export function parseSignatureParts(header: string): { t: number; v1: string[] } | undefined {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (!/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
      v1.push(value.toLowerCase());
    }
    // Other schemes (v0, future versions) are ignored, as Stripe-style receivers do.
  }
  if (t === undefined || v1.length === 0) return undefined;
  return { t, v1 };
}

/** Over the body's bytes as received, so a body that is not valid UTF-8 is still verified exactly. */
function hmacHex(secret: string, t: number, body: string | Uint8Array): string {
  return hmac(secret, t, body).digest("hex");
}

function hmac(secret: string, t: number, body: string | Uint8Array) {
  return createHmac("sha256", secretKey(secret)).update(`${t}.`, "utf8").update(body);
}

/**
 * Secrets as KeyObjects, made once each: createHmac with a string prepares a key from it on every call.
 * Few distinct secrets exist (one per trigger); the map is emptied should it ever pass 256.
 */
const keys = new Map<string, KeyObject>();

function secretKey(secret: string): KeyObject | string {
  // An empty secret stays a string: some Node versions refuse a zero-length KeyObject.
  if (secret === "") return secret;
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= 256) keys.clear();
    key = createSecretKey(Buffer.from(secret, "utf8"));
    keys.set(secret, key);
  }
  return key;
}
