import { type Span, type SpanOptions, type Tracer, trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { callTool } from "../../src/tools/call.js";
import { toolServices } from "../../src/tools/context.js";
import { ToolError, ToolInputError, ToolOutputError, ToolTimeoutError } from "../../src/tools/errors.js";
import type { Tool, ToolContext } from "../../src/tools/types.js";
import { callContext, mapSecrets, recordingLogger } from "./helpers.js";

const lookup: Tool<{ ip: string; tags: string[] }, { score: number }> = {
  name: "threatintel.ip",
  description: "IP reputation",
  input: z.object({ ip: z.ipv4(), tags: z.array(z.string()).default([]) }),
  output: z.object({ score: z.number().min(0).max(100) }),
  async run(input) {
    return { score: input.ip === "6.6.6.6" ? 90 : input.tags.length };
  },
};

/** A tracer that hands out identifiable no-op spans and records what was started. */
function recordingTracer(started: Array<{ name: string; options?: SpanOptions; span: Span }>): Tracer {
  let next = 1;
  const startSpan = (name: string, options?: SpanOptions): Span => {
    const span = trace.wrapSpanContext({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: String(next++).padStart(16, "0"),
      traceFlags: 1,
    });
    started.push({ name, ...(options ? { options } : {}), span });
    return span;
  };
  return {
    startSpan,
    startActiveSpan: () => {
      throw new Error("not used by callTool");
    },
  } as Tracer;
}

describe("callTool", () => {
  it("validates the input (defaults applied) and the output", async () => {
    expect(await callTool(lookup, { ip: "6.6.6.6" }, callContext())).toEqual({ score: 90 });
    expect(await callTool(lookup, { ip: "1.1.1.1", tags: ["a", "b"] }, callContext())).toEqual({ score: 2 });
  });

  it("returns bad input as a ToolInputError with field paths, without running the tool", async () => {
    let ran = false;
    const watched = {
      ...lookup,
      run: async () => {
        ran = true;
        return { score: 1 };
      },
    };
    const error = await callTool(watched, { ip: "not-an-ip", tags: ["ok", 7] }, callContext()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolInputError);
    const input = error as ToolInputError;
    expect(input.retryable).toBe(false);
    expect(input.code).toBe("validation");
    expect(input.issues).toEqual([
      { path: "ip", message: expect.stringContaining("IPv4") },
      { path: "tags[1]", message: expect.stringContaining("string") },
    ]);
    expect(input.message).toMatch(/^tool "threatintel\.ip" input is invalid: ip: .*; tags\[1\]: /);
    expect(ran).toBe(false);
  });

  it("reports an output outside the schema as a ToolOutputError", async () => {
    const broken = { ...lookup, run: async () => ({ score: 250 }) };
    const error = await callTool(broken, { ip: "1.1.1.1" }, callContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolOutputError);
    expect(error).toMatchObject({
      code: "tool_output_invalid",
      retryable: false,
      issues: [{ path: "score" }],
    });
  });

  it("aborts a tool past its timeoutMs with a retryable ToolTimeoutError", async () => {
    let sawAbort = false;
    const slow: Tool = {
      name: "slow.op",
      description: "waits for its signal",
      input: z.object({}),
      timeoutMs: 30,
      run: (_input, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve("late");
          });
        }),
    };
    const error = await callTool(slow, {}, callContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolTimeoutError);
    expect(error).toMatchObject({
      code: "timeout",
      retryable: true,
      message: 'tool "slow.op" took longer than its 30 ms limit',
    });
    expect(sawAbort).toBe(true);
  });

  it("gives the tool its run, step, idempotency key, secrets, a bound logger and a span", async () => {
    let seen: ToolContext | undefined;
    let secret: string | undefined;
    const probe: Tool = {
      name: "probe.ctx",
      description: "records its context",
      input: z.object({}),
      async run(_input, ctx) {
        seen = ctx;
        secret = await ctx.secrets.require("vendor-key");
        ctx.logger.info({ step: "inside" }, "probing");
        return null;
      },
    };
    const logger = recordingLogger();
    const started: Array<{ name: string; options?: SpanOptions; span: Span }> = [];
    await callTool(
      probe,
      {},
      callContext({
        runId: "r9",
        stepKey: "enrich[2]/probe",
        attempt: 3,
        idempotencyKey: "r9/enrich[2]/probe/3",
        secrets: mapSecrets({ "vendor-key": "v-123" }),
        logger,
        tracer: recordingTracer(started),
      }),
    );
    expect(seen).toMatchObject({
      runId: "r9",
      stepKey: "enrich[2]/probe",
      attempt: 3,
      idempotencyKey: "r9/enrich[2]/probe/3",
    });
    expect(secret).toBe("v-123");
    expect(logger.lines).toEqual([
      {
        level: "info",
        fields: { tool: "probe.ctx", runId: "r9", stepKey: "enrich[2]/probe", attempt: 3, step: "inside" },
        message: "probing",
      },
    ]);
    expect(started).toHaveLength(1);
    expect(started[0]!.name).toBe("tool probe.ctx");
    expect(started[0]!.options?.attributes).toMatchObject({
      "aat.tool.name": "probe.ctx",
      "aat.run.id": "r9",
    });
    expect(seen!.span.spanContext().spanId).toBe(started[0]!.span.spanContext().spanId);
  });

  it("defaults: no secrets (with a message that says so), a silent logger and a no-op span", async () => {
    const probe: Tool = {
      name: "probe.defaults",
      description: "uses defaults",
      input: z.object({}),
      async run(_input, ctx) {
        ctx.logger.warn({}, "nobody listens");
        ctx.span.setAttribute("x", 1);
        expect(ctx.span.isRecording()).toBe(false);
        expect(await ctx.secrets.get("anything")).toBeUndefined();
        return ctx.secrets.require("anything");
      },
    };
    const error = await callTool(probe, {}, callContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect(error).toMatchObject({ code: "secret_missing", retryable: false });
    expect((error as Error).message).toContain("passes no Secrets port to tools");
  });

  it("toolServices picks secrets, logger and tracer from factory services by shape", () => {
    const secrets = mapSecrets({});
    const logger = recordingLogger();
    const picked = toolServices({ secrets, logger, tracer: { nope: true }, tools: {} });
    expect(picked).toEqual({ secrets, logger });
  });
});
