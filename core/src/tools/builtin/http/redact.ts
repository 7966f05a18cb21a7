const MASK = "[redacted]";

/**
 * Removes secret values from whatever http.request hands back (a server that echoes the request, an
 * error message), so a secret used in a header never reaches the step output, the model or the logs.
 */
export class SecretRedactor {
  private readonly values: string[];

  constructor(secrets: Iterable<string>) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (!secret) continue;
      forms.add(secret);
      // A JSON echo writes the value escaped (quotes, backslashes, control characters).
      forms.add(JSON.stringify(secret).slice(1, -1));
    }
    // Longest first, so a secret that contains another is masked whole.
    this.values = [...forms].sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.values.length > 0;
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.values) out = out.split(secret).join(MASK);
    return out;
  }

  /** Raw bytes with every occurrence of a secret's UTF-8 bytes masked (bodies returned as base64). */
  bytes(value: Buffer): Buffer {
    let out = value;
    for (const secret of this.values) {
      const needle = Buffer.from(secret);
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, from)) {
        parts.push(out.subarray(from, at), Buffer.from(MASK));
        from = at + needle.length;
      }
      if (parts.length > 0) out = Buffer.concat([...parts, out.subarray(from)]);
    }
    return out;
  }

  /** A JSON value with every string (and object key) passed through `text`. */
  json<T>(value: T): T {
    if (!this.active) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[this.text(key)] = this.walk(item);
      return out;
    }
    return value;
  }
}
