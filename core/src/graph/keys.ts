/**
 * Step instance keys. A key is `<prefix><stepId>` where the prefix is empty at the top level and
 * `${outerPrefix}${mapStepId}[${index}]/` inside a map iteration. Step ids are identifiers (no `/`,
 * `[`, `]` or `:`), so a key splits without ambiguity.
 */

/** `a` → "", `m[2]/a` → `m[2]/`. */
export function prefixOf(key: string): string {
  return key.slice(0, key.lastIndexOf("/") + 1);
}

/** `m[2]/a` → `a`. */
export function stepIdOf(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

/** Prefix of the keys inside iteration `index` of the map instance `mapKey`. */
export function iterationPrefix(mapKey: string, index: number): string {
  return `${mapKey}[${index}]/`;
}

/** `x/m[2]/` → `{ mapKey: "x/m", index: 2 }`; undefined for the top-level prefix. */
export function parseIterationPrefix(prefix: string): { mapKey: string; index: number } | undefined {
  if (prefix === "") return undefined;
  const bracket = prefix.lastIndexOf("[");
  if (bracket < 0) return undefined;
  const index = Number(prefix.slice(bracket + 1, -2));
  if (!Number.isInteger(index)) return undefined;
  return { mapKey: prefix.slice(0, bracket), index };
}

/** `${runId}/${key}/${attempt}`, with `/resume/${n}` for the n-th resumption after an approval. */
export function dedupeIdOf(runId: string, key: string, attempt: number, resume?: number): string {
  return resume ? `${runId}/${key}/${attempt}/resume/${resume}` : `${runId}/${key}/${attempt}`;
}

export function childRunIdOf(runId: string, key: string, attempt: number): string {
  return `${runId}~${key}~${attempt}`;
}

export type TimerKind = "wait" | "timeout";

/** `${kind}:${key}:${attempt}`, or `…:${attempt}.${resume}` for a resumed execution's own time-out. */
export function timerIdOf(kind: TimerKind, key: string, attempt: number, resume?: number): string {
  return resume ? `${kind}:${key}:${attempt}.${resume}` : `${kind}:${key}:${attempt}`;
}

export function parseTimerId(
  timerId: string,
): { kind: TimerKind; key: string; attempt: number; resume?: number } | undefined {
  const first = timerId.indexOf(":");
  const last = timerId.lastIndexOf(":");
  if (first < 0 || last <= first) return undefined;
  const kind = timerId.slice(0, first);
  if (kind !== "wait" && kind !== "timeout") return undefined;
  const [attemptText, resumeText] = timerId.slice(last + 1).split(".", 2);
  const attempt = Number(attemptText);
  if (!Number.isInteger(attempt) || attempt < 1) return undefined;
  const key = timerId.slice(first + 1, last);
  if (resumeText === undefined) return { kind, key, attempt };
  const resume = Number(resumeText);
  if (!Number.isInteger(resume) || resume < 1) return undefined;
  return { kind, key, attempt, resume };
}
