import { createInterface } from "node:readline/promises";
import type { AatClient } from "@aat/sdk";
import { AatApiError, unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { describeError, UsageError } from "../errors.js";
import { printJson } from "../output.js";
import { examples } from "../program.js";

export function registerChat(program: Command): void {
  examples(
    program
      .command("chat")
      .description(
        "Chat with the agent: one question with -m, else an interactive session (Ctrl-C stops the reply, Ctrl-D ends the session).",
      )
      .option("-m, --message <text>", "ask once, print the streamed reply, exit")
      .option("-c, --context <kind:id...>", "what the chat is about, e.g. alert:ID or run:ID")
      .option("-s, --session <id>", "continue this chat session")
      .action(
        async (options: { message?: string; context?: string[]; session?: string }, command: Command) => {
          const ctx = contextOf(command);
          const context = (options.context ?? []).map((ref) => {
            const at = ref.indexOf(":");
            if (at < 1) throw new UsageError(`--context ${ref}: use kind:id, e.g. alert:0190… or run:0190…`);
            return { kind: ref.slice(0, at), id: ref.slice(at + 1) };
          });
          const client = await ctx.client();
          const sessionId =
            options.session ??
            (
              await unwrap(
                client.api.POST("/v1/chat/sessions", { body: context.length > 0 ? { context } : {} }),
              )
            ).id;
          if (options.message !== undefined) {
            const reply = await turn(client, sessionId, options.message, undefined, !ctx.json);
            if (ctx.json) printJson({ sessionId, ...reply });
            return;
          }
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          let replying: { abort: AbortController; runId?: string } | undefined;
          rl.on("SIGINT", () => {
            if (replying) replying.abort.abort();
            else rl.close();
          });
          console.log(ctx.colors.dim(`chat session ${sessionId}; Ctrl-C stops a reply, Ctrl-D ends`));
          try {
            while (true) {
              const text = await rl.question(ctx.colors.bold("you> ")).catch(() => undefined);
              if (text === undefined) break;
              if (!text.trim()) continue;
              const current: { abort: AbortController; runId?: string } = { abort: new AbortController() };
              replying = current;
              try {
                await turn(client, sessionId, text, current.abort.signal, true, (runId) => {
                  current.runId = runId;
                });
              } catch (error) {
                // Ctrl-C aborts the stream (the fetch throws); any other failure of one message is
                // reported and the session goes on with the next question.
                if (!current.abort.signal.aborted)
                  console.error(ctx.colors.red(`aat: ${describeError(error)}`));
              }
              replying = undefined;
              if (current.abort.signal.aborted) {
                // Stopping the reply stops the turn's run too, so the session takes the next message.
                const stopped = await stopTurn(client, sessionId, current.runId);
                console.log(ctx.colors.dim(`(reply stopped${stopped ? `; ${stopped}` : ""})`));
              }
            }
          } finally {
            rl.close();
          }
        },
      ),
    [
      "aat chat -m 'what can you do?'",
      "aat chat --context alert:0190…",
      "aat chat -m 'summarise' --context run:0190… --json",
    ],
  );
}

/** Sends one message and streams the reply's text to stdout as it arrives. */
async function turn(
  client: AatClient,
  sessionId: string,
  text: string,
  signal: AbortSignal | undefined,
  print: boolean,
  onRun?: (runId: string) => void,
): Promise<{ text: string; status?: string; runId?: string }> {
  let reply = "";
  let status: string | undefined;
  let runId: string | undefined;
  for await (const message of client.stream(`/v1/chat/sessions/${encodeURIComponent(sessionId)}/messages`, {
    method: "POST",
    body: { text },
    isLast: (m) => m.event === "done" || m.event === "error",
    ...(signal ? { signal } : {}),
  })) {
    const data = JSON.parse(message.data) as Record<string, unknown>;
    if (message.event === "turn") {
      runId = String(data.runId);
      onRun?.(runId);
    }
    if (message.event === "delta") {
      reply += String(data.text ?? "");
      if (print) process.stdout.write(String(data.text ?? ""));
    }
    if (message.event === "approval" && print) {
      process.stdout.write(
        `\n[waiting for approval of ${data.step}: aat runs approve ${data.runId} ${data.step}]\n`,
      );
    }
    if (message.event === "done") status = String(data.status);
    if (message.event === "error")
      throw new Error(`the chat turn failed: ${String(data.detail ?? data.message ?? "")}`);
  }
  if (print) process.stdout.write("\n");
  return { text: reply, ...(status ? { status } : {}), ...(runId ? { runId } : {}) };
}

/**
 * Cancels a stopped turn's run; says what is left to know when that is refused (e.g. not allowed).
 * Ctrl-C can come before the reply's first event named the run: the session's pending run is it.
 */
async function stopTurn(
  client: AatClient,
  sessionId: string,
  knownRunId: string | undefined,
): Promise<string | undefined> {
  let runId = knownRunId;
  try {
    if (!runId) {
      const detail = (await unwrap(
        client.api.GET("/v1/chat/sessions/{id}", { params: { path: { id: sessionId } } }),
      )) as { session?: { pendingRunId?: string } };
      runId = detail.session?.pendingRunId;
      if (!runId) return undefined;
    }
    await unwrap(
      client.api.POST("/v1/runs/{id}/cancel", {
        params: { path: { id: runId } },
        body: { reason: "reply stopped in aat chat (Ctrl-C)" },
      }),
    );
    return undefined;
  } catch (error) {
    // 409: the run finished while the reply was being stopped; nothing goes on.
    if (error instanceof AatApiError && error.status === 409) return undefined;
    return `its run ${runId ?? "(unknown)"} may go on: ${describeError(error)}`;
  }
}
