import type { LanguageModelV3Prompt, LanguageModelV3ToolResultOutput } from "@ai-sdk/provider";

/** One primitive value the offline model found, named by its key and where it came from. */
export interface Fact {
  /** The last non-index key of the value's path, e.g. `score` for `data.attributes.score`. */
  key: string;
  /** Dotted path inside the JSON it came from (`data.items.0.score`), or the key for `key: value` text. */
  path: string;
  value: string | number | boolean;
  /** `tool <name>` for tool results, `prompt` for the system and user messages. */
  source: string;
}

export interface PromptFacts {
  /** Facts from tool results first (newest first), then from the prompt text. */
  facts: Fact[];
  /** Names of tools the conversation has already called. */
  calledTools: Set<string>;
  /** Whether any tool result is in the prompt. */
  hasToolResults: boolean;
  /** Characters of prompt text, for the usage estimate. */
  promptChars: number;
}

// Bounds the work on huge prompts; facts past this point are not looked at.
const MAX_TEXT_SCANNED = 200_000;
const MAX_FACTS = 2_000;

/**
 * Reads the values the offline model may reason over: JSON in tool results and JSON or `key: value`
 * pairs in the prompt text. It does not interpret words: only names and values.
 */
export function collectFacts(prompt: LanguageModelV3Prompt): PromptFacts {
  const toolFacts: Fact[][] = [];
  const promptFacts: Fact[] = [];
  const calledTools = new Set<string>();
  let hasToolResults = false;
  let promptChars = 0;
  for (const message of prompt) {
    if (message.role === "system") {
      promptChars += message.content.length;
      promptFacts.push(...factsInText(message.content, "prompt"));
    } else if (message.role === "user") {
      for (const part of message.content) {
        if (part.type !== "text") continue;
        promptChars += part.text.length;
        promptFacts.push(...factsInText(part.text, "prompt"));
      }
    } else if (message.role === "assistant") {
      for (const part of message.content) {
        if (part.type === "tool-call") calledTools.add(part.toolName);
        if (part.type === "text") promptChars += part.text.length;
      }
    } else {
      for (const part of message.content) {
        if (part.type !== "tool-result") continue;
        hasToolResults = true;
        calledTools.add(part.toolName);
        const facts = factsInToolOutput(part.output, `tool ${part.toolName}`);
        promptChars += JSON.stringify(part.output).length;
        toolFacts.push(facts);
      }
    }
  }
  const facts = [...toolFacts.reverse().flat(), ...promptFacts].slice(0, MAX_FACTS);
  return { facts, calledTools, hasToolResults, promptChars };
}

function factsInToolOutput(output: LanguageModelV3ToolResultOutput, source: string): Fact[] {
  switch (output.type) {
    case "json":
      return factsInValue(output.value, source);
    case "text":
      return factsInText(output.value, source);
    case "content":
      return output.value.flatMap((part) => (part.type === "text" ? factsInText(part.text, source) : []));
    default:
      // Errors and refusals carry no facts about the subject.
      return [];
  }
}

/** Leaves of a JSON value as facts (null and empty strings are not facts). */
export function factsInValue(value: unknown, source: string, prefix: readonly string[] = []): Fact[] {
  const out: Fact[] = [];
  walk(value, [...prefix], (path, leaf) => {
    const key = [...path].reverse().find((segment) => !/^\d+$/.test(segment)) ?? "value";
    out.push({ key, path: path.join(".") || key, value: leaf, source });
  });
  return out;
}

function walk(
  value: unknown,
  path: string[],
  visit: (path: string[], leaf: string | number | boolean) => void,
): void {
  if (typeof value === "number" && Number.isFinite(value)) visit(path, value);
  else if (typeof value === "boolean") visit(path, value);
  else if (typeof value === "string" && value.length > 0) visit(path, value);
  else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, [...path, String(index)], visit);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) walk(child, [...path, key], visit);
  }
}

// Numbers, booleans and IPv4 addresses only: quoted words in prose are as often instructions as data.
const KEY_VALUE =
  /(?<![\w.-])([A-Za-z_][\w-]{0,40})\s*[:=]\s*(\d{1,3}(?:\.\d{1,3}){3}\b|-?\d+(?:\.\d+)?(?![\w.])|true\b|false\b)/g;

/** Facts from JSON embedded in text, then from `key: value` / `key=value` pairs (numbers, booleans, IPv4) outside it. */
export function factsInText(text: string, source: string): Fact[] {
  const scanned = text.length > MAX_TEXT_SCANNED ? text.slice(0, MAX_TEXT_SCANNED) : text;
  const { values, rest } = embeddedJson(scanned);
  const facts = values.flatMap((value) => factsInValue(value, source));
  for (const match of rest.matchAll(KEY_VALUE)) {
    const key = match[1]!;
    const raw = match[2]!;
    const value: string | number | boolean =
      raw === "true"
        ? true
        : raw === "false"
          ? false
          : /^\d{1,3}(\.\d{1,3}){3}$/.test(raw)
            ? raw
            : Number(raw);
    facts.push({ key, path: key, value, source });
  }
  return facts;
}

/** JSON objects and arrays found in text, and the text with them blanked out. */
function embeddedJson(text: string): { values: unknown[]; rest: string } {
  const values: unknown[] = [];
  let rest = "";
  let copiedUpTo = 0;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char !== "{" && char !== "[") {
      index++;
      continue;
    }
    const end = matchingBracket(text, index);
    if (end === -1) {
      index++;
      continue;
    }
    const candidate = text.slice(index, end + 1);
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (typeof parsed === "object" && parsed !== null) {
        values.push(parsed);
        rest += `${text.slice(copiedUpTo, index)} `;
        copiedUpTo = end + 1;
        index = end + 1;
        continue;
      }
    } catch {
      // Not JSON (prose in brackets): keep scanning inside it.
    }
    index++;
  }
  rest += text.slice(copiedUpTo);
  return { values, rest };
}

/** Index of the bracket closing the one at `start`, skipping brackets inside JSON strings; -1 if none. */
function matchingBracket(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') inString = true;
    else if (char === "{" || char === "[") depth++;
    else if (char === "}" || char === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}
