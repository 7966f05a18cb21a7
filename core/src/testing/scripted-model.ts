import type { AgentModel, AgentTurn, AgentTurnRequest } from "../models/agent-model.js";

/** A scripted round: the reply's fields (text, tool calls, usage), or a function of the request. */
export type ScriptedTurn =
  | Partial<AgentTurn>
  | ((request: AgentTurnRequest, call: number) => Partial<AgentTurn> | Promise<Partial<AgentTurn>>);

/**
 * A deterministic AgentModel for unit tests of the engine: answers round n with the n-th scripted
 * reply and records each request in `calls`. Agent behaviour against real providers is tested through
 * the provider SDKs over HTTP (ScriptedLlmServer), not with this.
 */
export class ScriptedModel implements AgentModel {
  readonly name = "scripted";
  readonly calls: AgentTurnRequest[] = [];

  constructor(
    private readonly script:
      | readonly ScriptedTurn[]
      | ((request: AgentTurnRequest, call: number) => Partial<AgentTurn> | Promise<Partial<AgentTurn>>),
  ) {}

  async turn(request: AgentTurnRequest): Promise<AgentTurn> {
    const call = this.calls.length;
    this.calls.push(request);
    const scripted = typeof this.script === "function" ? this.script : this.script[call];
    if (scripted === undefined) {
      throw new Error(
        `ScriptedModel: no reply scripted for call ${call + 1} (the script has ${(this.script as readonly ScriptedTurn[]).length}); add replies or pass a function`,
      );
    }
    const reply = typeof scripted === "function" ? await scripted(request, call) : scripted;
    return {
      text: "",
      toolCalls: [],
      finishReason: reply.toolCalls?.length ? "tool-calls" : "stop",
      ...reply,
    };
  }
}
