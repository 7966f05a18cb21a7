const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Message bodies travel as UTF-8 JSON, readable with `nats stream view` and any other client. */
export function encodeBody(value: unknown, where: string): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${where}: the body is not JSON-serialisable (${(error as Error).message})`);
  }
  if (text === undefined) {
    throw new TypeError(
      `${where}: the body is ${typeof value}, which JSON cannot represent; publish null or an object instead`,
    );
  }
  return encoder.encode(text);
}

export type DecodedBody = { ok: true; value: unknown } | { ok: false; text: string; problem: string };

/** Parses a stored body; a message published by another client may not be JSON at all. */
export function decodeBody(data: Uint8Array): DecodedBody {
  const text = decoder.decode(data);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, text, problem: (error as Error).message };
  }
}
