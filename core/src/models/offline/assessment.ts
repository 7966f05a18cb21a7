import type { Fact } from "./facts.js";

/** How bad the subject looks by the offline rules; `unknown` when no rule applies. */
export type RiskLevel = "high" | "medium" | "low" | "unknown";

export interface Assessment {
  level: RiskLevel;
  /** The deciding risk score on a 0–100 scale, when one was found. */
  score?: number;
  /** One sentence saying which fact and which rule decided. */
  basis: string;
}

/** Thresholds on a 0–100 risk score (threat-intel reputation, abuse confidence, risk score). */
export const HIGH_RISK_SCORE = 70;
export const MEDIUM_RISK_SCORE = 30;

const RISK_SCORE_KEY = /score|risk|reputation|abuse|threat_?level/i;
const NOT_A_RISK_SCORE = /count|total|time|port|id$|_at$|version/i;
const DETECTION_COUNT_KEY = /^(malicious|detections|positives|malicious_?count)$/i;
const FLAG_KEY = /malicious|compromised|(block|black|deny)_?listed|is_?threat|known_?bad/i;
const VERDICT_KEY = /verdict|classification|disposition|reputation|category|assessment/i;

/**
 * The offline model's only judgement: numbers and flags from tool results (and the prompt) mapped to a
 * level by fixed thresholds. Rules, first that applies: the highest risk score (score ≥ 70 → high,
 * ≥ 30 → medium, else low); detection counts (≥ 3 → high, ≥ 1 → medium, 0 → low); boolean flags such as
 * `malicious: true`; a verdict string from a tool (`"malicious"`, `"benign"`). Otherwise unknown.
 */
export function assess(facts: readonly Fact[]): Assessment {
  const scores = facts.filter(
    (f): f is Fact & { value: number } =>
      typeof f.value === "number" && RISK_SCORE_KEY.test(f.key) && !NOT_A_RISK_SCORE.test(f.key),
  );
  if (scores.length > 0) {
    const normalised = scores.map((f) => ({ fact: f, score: toPercent(f.value) }));
    const top = normalised.reduce((best, next) => (next.score > best.score ? next : best));
    const level: RiskLevel =
      top.score >= HIGH_RISK_SCORE ? "high" : top.score >= MEDIUM_RISK_SCORE ? "medium" : "low";
    return {
      level,
      score: top.score,
      basis: `${top.fact.key}=${top.fact.value} (${describe(top.fact)}) is the highest risk score: ${comparison(top.score)}`,
    };
  }
  const counts = facts.filter(
    (f): f is Fact & { value: number } => typeof f.value === "number" && DETECTION_COUNT_KEY.test(f.key),
  );
  if (counts.length > 0) {
    const top = counts.reduce((best, next) => (next.value > best.value ? next : best));
    const level: RiskLevel = top.value >= 3 ? "high" : top.value >= 1 ? "medium" : "low";
    return {
      level,
      basis: `${top.key}=${top.value} (${describe(top)}): 3 or more detections → high, 1–2 → medium, 0 → low`,
    };
  }
  const flags = facts.filter((f) => typeof f.value === "boolean" && FLAG_KEY.test(f.key));
  const raised = flags.find((f) => f.value === true);
  if (raised) return { level: "high", basis: `${raised.key}=true (${describe(raised)})` };
  if (flags.length > 0) {
    const first = flags[0]!;
    return { level: "low", basis: `${first.key}=false (${describe(first)}) and no flag is true` };
  }
  for (const fact of facts) {
    if (typeof fact.value !== "string" || !VERDICT_KEY.test(fact.key)) continue;
    const level = levelOfWord(fact.value);
    if (level !== undefined && level !== "unknown") {
      return { level, basis: `${fact.key}="${fact.value}" (${describe(fact)})` };
    }
  }
  return {
    level: "unknown",
    basis: "no risk score, detection count, flag or verdict was found in the tool results or the prompt",
  };
}

/** Fractions (0.85) are read as percentages; everything is clamped to 0–100. */
function toPercent(value: number): number {
  const scaled = value > 0 && value < 1 && !Number.isInteger(value) ? value * 100 : value;
  return Math.max(0, Math.min(100, Math.round(scaled * 100) / 100));
}

function comparison(score: number): string {
  if (score >= HIGH_RISK_SCORE) return `≥ ${HIGH_RISK_SCORE} → high`;
  if (score >= MEDIUM_RISK_SCORE) return `between ${MEDIUM_RISK_SCORE} and ${HIGH_RISK_SCORE} → medium`;
  return `< ${MEDIUM_RISK_SCORE} → low`;
}

function describe(fact: Fact): string {
  return fact.path === fact.key ? `from ${fact.source}` : `${fact.path} from ${fact.source}`;
}

const WORDS: Record<Exclude<RiskLevel, "unknown">, readonly string[]> & { unknown: readonly string[] } = {
  high: [
    "malicious",
    "true_positive",
    "truepositive",
    "tp",
    "confirmed",
    "compromised",
    "critical",
    "high",
    "block",
    "blocked",
    "contain",
    "isolate",
    "escalate",
    "bad",
    "dangerous",
    "threat",
    "attack",
    "incident",
    "quarantine",
    "disable",
    "revoke",
    "reset",
  ],
  medium: [
    "suspicious",
    "medium",
    "moderate",
    "investigate",
    "review",
    "monitor",
    "watch",
    "warning",
    "elevated",
  ],
  low: [
    "benign",
    "false_positive",
    "falsepositive",
    "fp",
    "clean",
    "low",
    "safe",
    "harmless",
    "close",
    "closed",
    "dismiss",
    "ignore",
    "allow",
    "informational",
    "info",
    "none",
    "good",
    "legitimate",
    "no_action",
  ],
  unknown: [
    "unknown",
    "undetermined",
    "inconclusive",
    "unsure",
    "uncertain",
    "needs_human",
    "manual",
    "unclear",
  ],
};

const NEGATIONS = new Set(["not", "non", "no"]);

/**
 * Which level an enum value names, by its words: `true-positive` → high, `needs_review` → medium,
 * `false_positive` → low, `undetermined` → unknown. Undefined for values the vocabulary does not know.
 */
export function levelOfWord(value: string): RiskLevel | undefined {
  const normal = value.toLowerCase().replace(/[\s-]+/g, "_");
  // Whole-value matches first, so `false_positive` is not read as containing `positive`.
  for (const level of ["unknown", "low", "medium", "high"] as const) {
    if (WORDS[level].includes(normal)) return level;
  }
  const tokens = normal.split(/_+/);
  // `not_malicious`, `non_threat`: a negated alarming word names the harmless side.
  if (NEGATIONS.has(tokens[0] ?? "") && tokens.slice(1).some((word) => WORDS.high.includes(word)))
    return "low";
  for (const level of ["unknown", "low", "medium", "high"] as const) {
    if (WORDS[level].some((word) => !word.includes("_") && tokens.includes(word))) return level;
  }
  return undefined;
}
