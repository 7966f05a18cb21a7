import type { AgentModel, AgentReply, AgentRequest } from "../models/agent-model.js";

/** A scripted reply: a fixed reply, or a function of the request (it may call `request.callTool`). */
export type ScriptedReply =
  | AgentReply
  | ((request: AgentRequest, call: number) => AgentReply | Promise<AgentReply>);

/**
 * A deterministic AgentModel for tests: answers call n with the n-th scripted reply (or with the
 * function's answer for every call) and records each request in `calls`.
 */
export class ScriptedModel implements AgentModel {
  readonly name = "scripted";
  readonly calls: AgentRequest[] = [];

  constructor(
    private readonly script:
      | readonly ScriptedReply[]
      | ((request: AgentRequest, call: number) => AgentReply | Promise<AgentReply>),
  ) {}

  async generate(request: AgentRequest): Promise<AgentReply> {
    const call = this.calls.length;
    this.calls.push(request);
    if (typeof this.script === "function") return this.script(request, call);
    const reply = this.script[call];
    if (reply === undefined) {
      throw new Error(
        `ScriptedModel: no reply scripted for call ${call + 1} (the script has ${this.script.length}); add replies or pass a function`,
      );
    }
    return typeof reply === "function" ? reply(request, call) : reply;
  }
}
