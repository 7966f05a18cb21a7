import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { SIGNATURE_FORM, SIGNATURE_HEADER, verifyWebhookSignature } from "../../api/webhook-signature.js";
import type { WebhookSource } from "./sources.js";

/** Why a delivery's credentials were refused; each becomes a 401 with this reason. */
export type AuthFailureReason =
  | "missing_credentials"
  | "malformed_signature"
  | "stale_timestamp"
  | "bad_signature"
  | "bad_credentials";

export type AuthCheck =
  | {
      ok: true /** Replay marker: the same value again within the window is a replay. */;
      replayKey?: string;
      replayTtlMs?: number;
    }
  | { ok: false; reason: AuthFailureReason; detail: string; challenge: string };

export const GITHUB_SIGNATURE_HEADER = "X-Hub-Signature-256";
export const DEFAULT_API_KEY_HEADER = "X-API-Key";

/**
 * Checks a delivery against its source's auth mode, trying every active secret (two during a rotation).
 * Every comparison is over fixed-length digests with timingSafeEqual, so timing tells nothing about how
 * much of a credential matched.
 */
export function verifyDelivery(
  source: WebhookSource,
  header: (name: string) => string | undefined,
  raw: Uint8Array,
  options: { now: number; toleranceMs: number },
): AuthCheck {
  const secrets = source.secrets.map((s) => s.value);
  switch (source.auth.mode) {
    case "hmac": {
      const value = header(SIGNATURE_HEADER);
      let last: ReturnType<typeof verifyWebhookSignature> | undefined;
      for (const secret of secrets) {
        last = verifyWebhookSignature(value, secret, raw, {
          now: options.now,
          replayWindowMs: options.toleranceMs,
        });
        if (last.ok) {
          // The signature itself is the replay marker: a captured request re-sent within the window has the same one.
          return { ok: true, replayKey: `hmac:${digest(value ?? "")}`, replayTtlMs: 2 * options.toleranceMs };
        }
        if (last.reason !== "mismatch") break;
      }
      const reason: AuthFailureReason =
        last?.ok === false && last.reason === "missing"
          ? "missing_credentials"
          : last?.ok === false && last.reason === "malformed"
            ? "malformed_signature"
            : last?.ok === false && last.reason === "expired"
              ? "stale_timestamp"
              : "bad_signature";
      return {
        ok: false,
        reason,
        detail: last?.ok === false ? last.detail : `send ${SIGNATURE_HEADER}: ${SIGNATURE_FORM}`,
        challenge: `AAT-HMAC-SHA256 header="${SIGNATURE_HEADER}"`,
      };
    }
    case "github": {
      const value = header(GITHUB_SIGNATURE_HEADER)?.trim();
      const challenge = `GitHub-HMAC-SHA256 header="${GITHUB_SIGNATURE_HEADER}"`;
      if (!value) {
        return {
          ok: false,
          reason: "missing_credentials",
          detail: `send ${GITHUB_SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body keyed with the source's secret>`,
          challenge,
        };
      }
      const match = /^sha256=([0-9a-fA-F]{64})$/.exec(value);
      if (!match)
        return {
          ok: false,
          reason: "malformed_signature",
          detail: `${GITHUB_SIGNATURE_HEADER} must be sha256=<64 hex digits>`,
          challenge,
        };
      const given = Buffer.from(match[1]!, "hex");
      const ok = secrets.some((secret) =>
        timingSafeEqual(given, createHmac("sha256", secret).update(raw).digest()),
      );
      if (!ok)
        return {
          ok: false,
          reason: "bad_signature",
          detail: "the signature does not match the body: sign the exact body bytes with the source's secret",
          challenge,
        };
      // GitHub signs no timestamp; its delivery id is the replay marker when it is sent.
      const delivery = header("X-GitHub-Delivery")?.trim();
      return delivery
        ? { ok: true, replayKey: `github:${digest(delivery)}`, replayTtlMs: 2 * options.toleranceMs }
        : { ok: true };
    }
    case "bearer": {
      const value = header("Authorization") ?? "";
      const token = /^Bearer\s+(.+)$/i.exec(value.trim())?.[1];
      return secretCheck(token, secrets, "Bearer", "send Authorization: Bearer <the source's token>");
    }
    case "basic": {
      const value = header("Authorization") ?? "";
      const encoded = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(value.trim())?.[1];
      const decoded = encoded ? Buffer.from(encoded, "base64").toString("utf8") : undefined;
      const user = source.auth.username ?? "";
      return secretCheck(
        decoded,
        secrets.map((s) => `${user}:${s}`),
        "Basic",
        "send Authorization: Basic base64(<username>:<the source's secret>)",
      );
    }
    case "api_key": {
      const name = source.auth.header ?? DEFAULT_API_KEY_HEADER;
      return secretCheck(
        header(name)?.trim(),
        secrets,
        `ApiKey header="${name}"`,
        `send ${name}: <the source's key>`,
      );
    }
  }
}

function secretCheck(
  given: string | undefined,
  expected: string[],
  challenge: string,
  how: string,
): AuthCheck {
  if (!given) return { ok: false, reason: "missing_credentials", detail: how, challenge };
  const a = createHash("sha256").update(given).digest();
  const ok = expected.some((e) => timingSafeEqual(a, createHash("sha256").update(e).digest()));
  return ok
    ? { ok: true }
    : { ok: false, reason: "bad_credentials", detail: `the credentials do not match: ${how}`, challenge };
}

function digest(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
