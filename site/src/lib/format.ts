/** "12:03:04" today, else a short date and time, in the viewer's locale. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return "";
  const date = new Date(ms);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString()
    : date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

/** "850 ms", "3.2 s", "4 min 5 s". */
export function formatDuration(from: number | undefined, to: number | undefined): string {
  if (from === undefined || to === undefined) return "";
  const ms = Math.max(0, to - from);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function pretty(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** Reads ?name= from the current address (pages are static, so ids travel in the query). */
export function queryParam(name: string): string | undefined {
  return new URLSearchParams(window.location.search).get(name) ?? undefined;
}
