/** Pause between attempts while the file stays busy (SQLite's own busy handler starts at 1 ms too). */
export const BUSY_RETRY_MS = 1;
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread, as SQLite's busy handler does while it waits for a lock. */
export function pause(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms);
}

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}
