import type { RunEventHub } from "@aat/core/api";
import { OidcVerifier } from "@aat/core/auth";
import type { AatConfig } from "@aat/core/config";
import type { ModelRegistry } from "@aat/core/models";
import type { KvPlanRepository } from "@aat/core/plan";
import type { Clock, KeyValue } from "@aat/core/ports";
import type { Runner } from "@aat/core/runner";
import { AlertStore, alertContextResolver } from "@aat/core/workflows/alerts";
import {
  ChatContextRegistry,
  type ChatDeltaHub,
  ChatService,
  type ChatServiceOptions,
  ExtractiveSummariser,
  ModelSummariser,
  planContextResolver,
  runContextResolver,
} from "@aat/core/workflows/chat";

/** The chat backend every runtime serves: context from runs, plans and alerts; summaries by the model. */
export function createChatService(deps: {
  config: AatConfig;
  kv: KeyValue;
  runner: Runner;
  plans: KvPlanRepository;
  models: ModelRegistry;
  clock: Clock;
  events: RunEventHub;
  deltas: ChatDeltaHub;
  /** Overrides of config.chat (tests turn the history budget, limits and waits). */
  tuning?: Pick<ChatServiceOptions, "history" | "contextLimits" | "turnWaitMs" | "pollMs">;
}): ChatService {
  const { config, models } = deps;
  const offline = models.resolve().provider === "offline";
  return new ChatService({
    kv: deps.kv,
    runner: deps.runner,
    clock: deps.clock,
    events: deps.events,
    deltas: deps.deltas,
    contexts: new ChatContextRegistry([
      runContextResolver(deps.runner),
      planContextResolver(deps.plans),
      alertContextResolver(new AlertStore(deps.kv)),
    ]),
    summariser: offline
      ? new ExtractiveSummariser()
      : new ModelSummariser(async (prompt, signal) => {
          // The AI SDK loads with the first summary a model writes, not with the API: a bundle's first
          // HTTP request does not parse it (docs/benchmarks.md, cold start).
          const { generateWithModel } = await import("@aat/core/models");
          return (await generateWithModel(models.resolve(), { prompt, signal })).text;
        }),
    offline: () => offline,
    history: { maxTokens: config.chat.historyTokenBudget, keepShare: 0.5 },
    contextLimits: {
      maxItemChars: config.chat.contextMaxItemChars,
      maxTotalChars: config.chat.contextMaxTotalChars,
    },
    turnWaitMs: config.chat.turnWaitMs,
    ...(deps.tuning ?? {}),
  });
}

/** The verifier of OIDC bearer tokens when auth.mode is oidc. */
export function oidcVerifierOf(auth: AatConfig["auth"], clock: Clock): OidcVerifier | undefined {
  if (auth.mode !== "oidc") return undefined;
  return new OidcVerifier({
    issuer: auth.oidc.issuer,
    audience: auth.oidc.audience,
    ...(auth.oidc.jwksUrl !== undefined ? { jwksUrl: auth.oidc.jwksUrl } : {}),
    clock,
  });
}
