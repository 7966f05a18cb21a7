/**
 * Token streaming out of agent steps, for chat. A sink is NOT durable: deltas are a live view of the
 * model's text while a round runs; the durable record is the round's reply in the run's event log
 * (`step.progress`, kind `agent.model`). A round replayed from the journal after a crash or approval
 * is not streamed again, and a failed round may have streamed text that no record keeps.
 *
 * Where it is set: `RunnerOptions.onTextDelta` (every agent step the runner executes streams through
 * it) or `ExecuteOptions.onTextDelta` for a single execution. The agent loop calls `model.stream`
 * instead of `model.turn` only while a sink is set, so runs nobody watches cost nothing extra.
 */
export type TextDeltaSink = (runId: string, stepKey: string, delta: string) => void;
