import { readFile } from "node:fs/promises";
import { unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { UsageError } from "../errors.js";
import { followRun } from "../follow.js";
import { printJson } from "../output.js";
import { examples } from "../program.js";
import { reportOutcome } from "../run-outcome.js";

const WORKFLOWS = ["alerts", "analytics", "automation", "coding", "chat"] as const;
type Workflow = (typeof WORKFLOWS)[number];

interface RunOptions {
  workflow?: string;
  event?: string;
  input?: string;
  planVersion?: string;
  idempotencyKey?: string;
  detach?: boolean;
}

export function registerRun(program: Command): void {
  examples(
    program
      .command("run")
      .description(
        "Start a run of a plan (or let --workflow choose one) and follow it live until it finishes; the exit code is the run's outcome. In a terminal a progress display, otherwise one line per event.",
      )
      .argument("[plan]", "plan id (or use --workflow)")
      .option(
        "-w, --workflow <workflow>",
        `let the planner choose a plan of this workflow (${WORKFLOWS.join(", ")})`,
      )
      .option("-e, --event <event>", "the event the planner matches plans on (with --workflow)")
      .option("-i, --input <json>", "run input: JSON text, or @FILE to read it from a file")
      .option("--plan-version <n>", "pin this version of the plan")
      .option("--idempotency-key <key>", "the same key returns the same run instead of starting another")
      .option("-d, --detach", "start the run and print its id without following it")
      .action(async (plan: string | undefined, options: RunOptions, command: Command) => {
        const ctx = contextOf(command);
        if (!plan && !options.workflow)
          throw new UsageError("name a plan (aat run PLAN) or a workflow (--workflow W)");
        if (options.workflow && !WORKFLOWS.includes(options.workflow as Workflow)) {
          throw new UsageError(
            `--workflow must be one of ${WORKFLOWS.join(", ")}; got "${options.workflow}"`,
          );
        }
        const input = await readInput(options.input);
        const version = options.planVersion === undefined ? undefined : Number(options.planVersion);
        if (version !== undefined && (!Number.isInteger(version) || version < 1)) {
          throw new UsageError(
            `--plan-version must be a version number (1, 2, …); got "${options.planVersion}"`,
          );
        }
        const client = await ctx.client();
        const started = await unwrap(
          client.api.POST("/v1/runs", {
            body: {
              ...(plan ? { planId: plan } : {}),
              ...(options.workflow ? { workflow: options.workflow as Workflow } : {}),
              ...(options.event ? { event: options.event } : {}),
              ...(version !== undefined ? { version } : {}),
              ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
              input,
            },
          }),
        );
        if (options.detach) {
          if (ctx.json) return printJson(started);
          console.log(started.runId);
          return;
        }
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once("SIGINT", stop);
        try {
          const result = await followRun(client, started.runId, {
            tty: ctx.tty && !ctx.json,
            colors: ctx.colors,
            quiet: ctx.json,
            signal: controller.signal,
          });
          if (controller.signal.aborted) {
            console.error(`stopped following; the run goes on: aat runs watch ${started.runId}`);
            process.exitCode = 130;
            return;
          }
          reportOutcome(started.runId, result, ctx.json);
        } finally {
          process.off("SIGINT", stop);
        }
      }),
    [
      'aat run automation.hello --input \'{"names":["Ada","Grace"]}\'',
      "aat run automation.hello --input @input.json --detach",
      "aat run --workflow automation --event hello.requested --input '{}'",
      "aat run automation.hello --json | jq .output",
    ],
  );
}

async function readInput(text: string | undefined): Promise<unknown> {
  if (text === undefined) return {};
  let raw = text;
  let where = "--input";
  if (text.startsWith("@")) {
    where = text.slice(1);
    try {
      raw = await readFile(where, "utf8");
    } catch {
      throw new UsageError(`--input ${text}: cannot read ${where}; give a JSON file's path after @`);
    }
  }
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new UsageError(
      `${where} is not JSON (${(error as Error).message}); pass e.g. --input '{"key":"value"}'`,
    );
  }
}
