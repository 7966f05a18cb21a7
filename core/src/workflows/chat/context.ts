import type { PlanRepository } from "../../plan/repository.js";
import type { Runner } from "../../runner/runner.js";
import { ChatInputError } from "./errors.js";
import type { ContextRef } from "./records.js";

/** What a resolver found: a heading and the text the model gets. */
export interface ResolvedContext {
  title: string;
  text: string;
}

/**
 * Turns one kind of attached context (a run, a plan; later an alert, a dataset, a repository) into text
 * for the system prompt. Workflows add their kinds with ChatContextRegistry.register.
 */
export interface ChatContextResolver {
  kind: string;
  description: string;
  /** Undefined when the thing does not exist (any more): the prompt says so instead of failing the turn. */
  resolve(id: string): Promise<ResolvedContext | undefined>;
}

export interface ContextLimits {
  /** Characters of one attached item at most; longer text is cut and marked. */
  maxItemChars: number;
  /** Characters of all attached context together at most. */
  maxTotalChars: number;
}

export const DEFAULT_CONTEXT_LIMITS: ContextLimits = { maxItemChars: 4000, maxTotalChars: 12_000 };

export class ChatContextRegistry {
  private readonly resolvers = new Map<string, ChatContextResolver>();

  constructor(resolvers: ChatContextResolver[] = []) {
    for (const resolver of resolvers) this.register(resolver);
  }

  register(resolver: ChatContextResolver): this {
    if (this.resolvers.has(resolver.kind))
      throw new Error(`chat context kind "${resolver.kind}" is registered twice`);
    this.resolvers.set(resolver.kind, resolver);
    return this;
  }

  kinds(): Array<{ kind: string; description: string }> {
    return [...this.resolvers.values()].map(({ kind, description }) => ({ kind, description }));
  }

  /** Rejects references to kinds nobody resolves, naming the field and the known kinds. */
  check(refs: readonly ContextRef[], path = "context"): void {
    refs.forEach((ref, i) => {
      if (!this.resolvers.has(ref.kind)) {
        throw new ChatInputError(
          `unknown context kind "${ref.kind}"; known kinds: ${[...this.resolvers.keys()].join(", ") || "none"}`,
          `${path}[${i}].kind`,
        );
      }
    });
  }

  /**
   * The system-prompt section for `refs`: one block per item, each cut to maxItemChars and all of them
   * to maxTotalChars, with a marker saying how much was left out. Items that cannot be found say so.
   */
  async render(refs: readonly ContextRef[], limits: ContextLimits = DEFAULT_CONTEXT_LIMITS): Promise<string> {
    if (refs.length === 0) return "";
    const blocks: string[] = [];
    let budget = limits.maxTotalChars;
    for (const ref of refs) {
      const resolver = this.resolvers.get(ref.kind);
      let found: ResolvedContext | undefined;
      try {
        found = resolver ? await resolver.resolve(ref.id) : undefined;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        found = { title: `${ref.kind} ${ref.id}`, text: `(could not be read: ${reason})` };
      }
      // Headings always stay, so the model knows what is attached even when its text did not fit.
      const heading = `### ${ref.kind} ${ref.id}${found ? `: ${found.title}` : ""}`;
      const body = found
        ? truncate(found.text, limits.maxItemChars)
        : "(not found: it may have been deleted)";
      const room = budget - heading.length - 3;
      const cut = room >= MIN_BODY ? truncate(body, room) : marker(body.length);
      blocks.push(`${heading}\n${cut}`);
      budget = Math.max(0, budget - heading.length - cut.length - 3);
    }
    return blocks.join("\n\n");
  }
}

/** Below this many characters left, an item's text is left out whole (a marker says how much). */
const MIN_BODY = 80;

/** `text` cut to at most `max` characters (marker included) with a marker saying how much was dropped. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.max(0, max - 40);
  return `${text.slice(0, keep)}\n${marker(text.length - keep)}`;
}

function marker(dropped: number): string {
  return `…[truncated: ${dropped} more characters]`;
}

/** `run`: the run's plan, status, steps, output or error. */
export function runContextResolver(runner: Pick<Runner, "load">): ChatContextResolver {
  return {
    kind: "run",
    description: "A run: its plan, status, step statuses, output or error.",
    async resolve(id) {
      const run = await runner.load(id);
      if (!run) return undefined;
      const steps = Object.values(run.steps).map((s) => `${s.key}: ${s.status}`);
      const lines = [
        `plan: ${run.plan.id} v${run.plan.version} (${run.plan.workflow})`,
        `status: ${run.status}`,
        `started: ${new Date(run.startedAt).toISOString()}${run.finishedAt !== undefined ? `, finished: ${new Date(run.finishedAt).toISOString()}` : ""}`,
        `steps: ${steps.join(", ") || "none yet"}`,
        `input: ${JSON.stringify(run.input)}`,
        ...(run.output !== undefined ? [`output: ${JSON.stringify(run.output)}`] : []),
        ...(run.error !== undefined ? [`error: ${JSON.stringify(run.error)}`] : []),
      ];
      return { title: `run of ${run.plan.id} (${run.status})`, text: lines.join("\n") };
    },
  };
}

/** `plan`: the current version's title, description, inputs and steps. */
export function planContextResolver(plans: Pick<PlanRepository, "get">): ChatContextResolver {
  return {
    kind: "plan",
    description: "A plan: title, description, inputs and steps of its current version.",
    async resolve(id) {
      const plan = await plans.get(id);
      if (!plan) return undefined;
      const { definition } = plan;
      const lines = [
        `version: ${plan.version}, workflow: ${definition.workflow}`,
        ...(definition.description ? [`description: ${definition.description.trim()}`] : []),
        ...(definition.inputs ? [`inputs schema: ${JSON.stringify(definition.inputs)}`] : []),
        `steps: ${definition.steps.map((s) => `${s.id} (${s.type})`).join(", ")}`,
      ];
      return { title: definition.title, text: lines.join("\n") };
    },
  };
}
