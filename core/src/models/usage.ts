import type { LanguageModelUsage } from "ai";

/** Tokens one model call (or a sum of calls) used. `estimated` marks counts the offline model made up from text length. */
export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  estimated?: boolean;
}

/** Prices per million tokens from the alias's configuration, in whatever currency the operator uses throughout. */
export interface ModelPrice {
  costPerMillionInput?: number;
  costPerMillionOutput?: number;
}

export const NO_USAGE: ModelUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

/** The AI SDK's usage (fields may be undefined when a provider does not report them) as plain numbers. */
export function usageFromSdk(usage: LanguageModelUsage, estimated = false): ModelUsage {
  const inputTokens = usage.inputTokens ?? 0;
  const outputTokens = usage.outputTokens ?? 0;
  return {
    inputTokens,
    outputTokens,
    totalTokens: usage.totalTokens ?? inputTokens + outputTokens,
    ...(estimated ? { estimated } : {}),
  };
}

export function addUsage(a: ModelUsage, b: ModelUsage): ModelUsage {
  const estimated = a.estimated === true || b.estimated === true;
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    ...(estimated ? { estimated } : {}),
  };
}

/**
 * Cost of `usage` at `price`, or undefined when the alias has no price: an unknown cost is not zero.
 * A price given for one direction only counts the other direction as free.
 */
export function costOf(usage: ModelUsage, price: ModelPrice | undefined): number | undefined {
  if (price?.costPerMillionInput === undefined && price?.costPerMillionOutput === undefined) return undefined;
  const cost =
    (usage.inputTokens * (price.costPerMillionInput ?? 0) +
      usage.outputTokens * (price.costPerMillionOutput ?? 0)) /
    1_000_000;
  // Rounded to a billionth so sums of calls compare equal regardless of float noise.
  return Math.round(cost * 1e9) / 1e9;
}
