/**
 * Key ranges for prefix listing. SQLite compares TEXT (BINARY collation) by its UTF-8 bytes, which is
 * Unicode code point order; the keys starting with a prefix are exactly those in [prefix, upper) where
 * `upper` is the prefix with its last code point raised by one. A fixed suffix such as char(0x10FFFF)
 * would miss keys that continue with that very character.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = Array.from(prefix);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // The surrogate range holds no characters: the code point after U+D7FF is U+E000.
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return codePoints.join("") + String.fromCodePoint(next);
    }
    // U+10FFFF cannot be raised: every key starting with the shorter prefix plus it sorts before the
    // shorter prefix raised, so drop it and raise the one before.
  }
  return undefined;
}

export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, "utf8").toString("base64url");
}

/** The last key of the previous page, or undefined when the cursor did not come from this prefix. */
export function decodeCursor(cursor: unknown, prefix: string): string | undefined {
  if (typeof cursor !== "string") return undefined;
  const lastKey = Buffer.from(cursor, "base64url").toString("utf8");
  if (!lastKey.startsWith(prefix) || encodeCursor(lastKey) !== cursor) return undefined;
  return lastKey;
}
