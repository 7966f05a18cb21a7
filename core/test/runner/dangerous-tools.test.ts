import { humanAskTool, type Tool } from "@aat/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { makeEngine } from "./harness.js";

/** A dangerous tool that records every call and the approval it ran under. */
function fireTool() {
  const calls: Array<{ target: string; approvedBy?: string }> = [];
  const tool: Tool<{ target: string }, { fired: string }> = {
    name: "test.fire",
    description: "A dangerous effect",
    input: z.object({ target: z.string() }),
    output: z.object({ fired: z.string() }),
    dangerous: true,
    async run(input, ctx) {
      calls.push({ target: input.target, ...(ctx.approval ? { approvedBy: ctx.approval.by } : {}) });
      return { fired: input.target };
    },
  };
  return { tool, calls };
}

const PLAIN = `
id: test.plain-dangerous
workflow: alerts
title: A dangerous tool in a plain tool step
steps:
  - id: fire
    type: tool
    tool: test.fire
    with: { target: "{% input.target %}" }
`;

const PRE_APPROVED = `
id: test.pre-approved
workflow: alerts
title: An approval, then the dangerous tool it covers
steps:
  - id: ask
    type: approval
    approvers: [role:responder]
    message: "Fire at {% input.target %}?"
    onReject: rejected
  - id: fire
    type: tool
    tool: test.fire
    approvedBy: ask
    with: { target: "{% input.target %}" }
    end: true
  - id: rejected
    type: set
    values: { rejected: true }
  - id: fire_anyway
    type: tool
    tool: test.fire
    approvedBy: ask
    with: { target: "after rejection" }
`;

describe("dangerous tools in tool steps", () => {
  it("a plain tool step waits for an approval of the call, runs it once approved, with the approver", async () => {
    const { tool, calls } = fireTool();
    const { runner, worker } = await makeEngine([PLAIN], { tools: [tool] });
    const { runId } = await runner.start({ planId: "test.plain-dangerous", input: { target: "web-1" } });
    await worker.drain();
    const waiting = await runner.load(runId);
    expect(waiting?.status).toBe("waiting");
    expect(waiting?.steps.fire?.status).toBe("waiting_approval");
    expect(waiting?.steps.fire?.approval?.request.proposal).toEqual({
      kind: "tool.call",
      tool: "test.fire",
      input: { target: "web-1" },
    });
    expect(calls).toEqual([]);
    await runner.approve(runId, "fire", "user:alice", "ok");
    await worker.drain();
    const done = await runner.load(runId);
    expect(done?.status).toBe("succeeded");
    expect(done?.steps.fire?.output).toEqual({ fired: "web-1" });
    expect(calls).toEqual([{ target: "web-1", approvedBy: "user:alice" }]);
  });

  it("a rejected call fails the step and never runs", async () => {
    const { tool, calls } = fireTool();
    const { runner, worker } = await makeEngine([PLAIN], { tools: [tool] });
    const { runId } = await runner.start({ planId: "test.plain-dangerous", input: { target: "web-1" } });
    await worker.drain();
    await runner.reject(runId, "fire", "user:bob", "no");
    await worker.drain();
    const done = await runner.load(runId);
    expect(done?.status).toBe("failed");
    expect(done?.steps.fire?.error?.code).toBe("approval_rejected");
    expect(calls).toEqual([]);
  });

  it("approvedBy a granted approval step runs the tool without asking again", async () => {
    const { tool, calls } = fireTool();
    const { runner, worker } = await makeEngine([PRE_APPROVED], { tools: [tool] });
    const { runId } = await runner.start({ planId: "test.pre-approved", input: { target: "db-2" } });
    await runner.approve(runId, "ask", "user:carol", "confirmed");
    await worker.drain();
    const done = await runner.load(runId);
    expect(done?.status).toBe("succeeded");
    expect(calls).toEqual([{ target: "db-2", approvedBy: "user:carol" }]);
  });

  it("approvedBy an approval that was rejected does not count: the step asks for its own", async () => {
    const { tool, calls } = fireTool();
    const { runner, worker } = await makeEngine([PRE_APPROVED], { tools: [tool] });
    const { runId } = await runner.start({ planId: "test.pre-approved", input: { target: "db-2" } });
    await runner.reject(runId, "ask", "user:carol", "no");
    await worker.drain();
    const waiting = await runner.load(runId);
    expect(waiting?.steps.fire_anyway?.status).toBe("waiting_approval");
    expect(waiting?.steps.fire_anyway?.approval?.request.message).toContain('the approval "ask"');
    expect(calls).toEqual([]);
  });

  it("approvedBy must name an approval step of the plan", async () => {
    const { tool } = fireTool();
    const bad = (ref: string) => `
id: test.bad-ref-${ref}
workflow: alerts
title: Bad reference
steps:
  - id: note
    type: set
    values: { a: 1 }
  - id: fire
    type: tool
    tool: test.fire
    approvedBy: ${ref}
    with: { target: x }
`;
    const { runner } = await makeEngine([bad("missing"), bad("note")], { tools: [tool] });
    await expect(runner.start({ planId: "test.bad-ref-missing", input: {} })).rejects.toThrow(
      /approvedBy.*no step "missing"/s,
    );
    await expect(runner.start({ planId: "test.bad-ref-note", input: {} })).rejects.toThrow(
      /"note" is a set step; approvedBy must name an approval step/,
    );
  });

  it("human.ask still asks its own question (it is dangerous but asks by itself)", async () => {
    const { tool } = fireTool();
    const { runner, worker } = await makeEngine(
      [
        `
id: test.ask
workflow: alerts
title: Ask
steps:
  - id: q
    type: tool
    tool: human.ask
    with: { question: "Is web-1 yours?" }
`,
      ],
      { tools: [tool, humanAskTool()] },
    );
    const { runId } = await runner.start({ planId: "test.ask", input: {} });
    await worker.drain();
    const waiting = await runner.load(runId);
    expect(waiting?.steps.q?.approval?.request.message).toBe("Is web-1 yours?");
  });
});
