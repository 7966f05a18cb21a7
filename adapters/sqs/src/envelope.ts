import type { MessageAttributes } from "@aat/core";
import { z } from "zod";
import type { SqsMessageAttributeValue } from "./wire.js";

/**
 * The adapter's own bookkeeping travels in one SQS message attribute, "aat", holding JSON: SQS allows only
 * 10 message attributes per message, so the caller keeps 9 of them for its own (traceparent, …).
 */
export const ENVELOPE_ATTRIBUTE = "aat";
/** SQS's per-message attribute limit minus the envelope. */
export const MAX_NATIVE_ATTRIBUTES = 9;

export const envelopeSchema = z.object({
  /** The caller's dedupeId. */
  d: z.string().optional(),
  /** Epoch ms the message must not be delivered before (delays longer than SQS allows natively). */
  nb: z.number().optional(),
  /** Epoch ms of the original publish (kept when the adapter re-publishes). */
  p: z.number().optional(),
  /** Deliveries before a re-publish (long nack delays), added to SQS's receive count. */
  pd: z.number().int().nonnegative().optional(),
  /** Dead-letter reason and delivery count, set when the adapter dead-letters on request. */
  r: z.string().optional(),
  dc: z.number().int().nonnegative().optional(),
  /** Claim check: the body lives in S3 under this bucket and key. */
  c: z.object({ b: z.string(), k: z.string() }).optional(),
  /** Caller attributes SQS cannot carry natively (empty values, unusual names, more than 9). */
  a: z.record(z.string(), z.string()).optional(),
});

export type Envelope = z.infer<typeof envelopeSchema>;

/** SQS attribute names: letters, digits, "_", "-", "."; no leading/trailing/double dot; not AWS./Amazon. */
function isNativeName(name: string): boolean {
  return (
    /^[A-Za-z0-9_.-]{1,256}$/.test(name) &&
    !name.startsWith(".") &&
    !name.endsWith(".") &&
    !name.includes("..") &&
    !/^(aws|amazon)\./i.test(name) &&
    name !== ENVELOPE_ATTRIBUTE
  );
}

/** Splits the caller's attributes into native SQS ones and the rest (carried in the envelope). */
export function encodeAttributes(
  attributes: MessageAttributes,
  envelope: Envelope,
): Record<string, SqsMessageAttributeValue> {
  const native: Record<string, SqsMessageAttributeValue> = {};
  const extra: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(attributes)) {
    if (isNativeName(name) && value !== "" && count < MAX_NATIVE_ATTRIBUTES) {
      native[name] = { DataType: "String", StringValue: value };
      count++;
    } else {
      extra[name] = value;
    }
  }
  const full: Envelope = Object.keys(extra).length > 0 ? { ...envelope, a: extra } : envelope;
  native[ENVELOPE_ATTRIBUTE] = { DataType: "String", StringValue: JSON.stringify(full) };
  return native;
}

export interface DecodedAttributes {
  attributes: MessageAttributes;
  envelope: Envelope;
}

/** Reads the caller's attributes and the envelope back; throws with a reason when the envelope is malformed. */
export function decodeAttributes(
  native: Record<string, SqsMessageAttributeValue> | undefined,
): DecodedAttributes {
  const attributes: MessageAttributes = {};
  let envelope: Envelope = {};
  for (const [name, value] of Object.entries(native ?? {})) {
    if (name === ENVELOPE_ATTRIBUTE) {
      const parsed = envelopeSchema.safeParse(JSON.parse(value.StringValue ?? "{}"));
      if (!parsed.success) throw new Error(`malformed "aat" attribute: ${z.prettifyError(parsed.error)}`);
      envelope = parsed.data;
    } else if (value.StringValue !== undefined) {
      attributes[name] = value.StringValue;
    }
  }
  return { attributes: { ...attributes, ...envelope.a }, envelope };
}

/** Bytes SQS counts towards its 256 KiB message limit: body plus attribute names, types and values. */
export function messageBytes(body: string, native: Record<string, SqsMessageAttributeValue>): number {
  let bytes = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(native)) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? "") +
      Buffer.byteLength(value.StringValue ?? "");
  }
  return bytes;
}
