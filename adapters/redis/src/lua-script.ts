import { createHash } from "node:crypto";
import type { RedisClient } from "./connection-options.js";

/**
 * A Lua script sent by SHA1 (EVALSHA), and in full (EVAL, which also caches it on the server) only when
 * the server answers NOSCRIPT: after a restart, a SCRIPT FLUSH, or a failover to a replica that never
 * saw it. So a call costs the SHA, not the source, on the wire.
 */
export class LuaScript {
  readonly sha1: string;
  /** How many times the server lacked the script and it was sent in full (for tests and diagnostics). */
  loads = 0;

  constructor(
    readonly name: string,
    readonly source: string,
    readonly keyCount: number,
  ) {
    this.sha1 = createHash("sha1").update(source).digest("hex");
  }

  /** `keyCount` overrides the script's own for scripts that take a variable number of keys. */
  async run(
    client: RedisClient,
    keysAndArgs: Array<string | number>,
    keyCount = this.keyCount,
  ): Promise<unknown> {
    if (keysAndArgs.length < keyCount) {
      throw new Error(`script ${this.name} needs ${keyCount} keys, got ${keysAndArgs.length} arguments`);
    }
    try {
      return await client.evalsha(this.sha1, keyCount, ...keysAndArgs);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      this.loads++;
      return await client.eval(this.source, keyCount, ...keysAndArgs);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}
