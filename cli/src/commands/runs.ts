import { paginate, take, unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { contextOf } from "../context.js";
import { UsageError } from "../errors.js";
import { followRun } from "../follow.js";
import { formatTime, printJson, table } from "../output.js";
import { examples } from "../program.js";
import { reportOutcome } from "../run-outcome.js";

const STATUSES = ["running", "waiting", "succeeded", "failed", "cancelled"] as const;

export function registerRuns(program: Command): void {
  const runs = examples(
    program.command("runs").description("List, inspect, watch, cancel and decide runs."),
    ["aat runs list --status waiting", "aat runs approve 0190… contain"],
  );

  examples(
    runs
      .command("list")
      .description("Runs, newest first (follows the API's cursor until --limit runs are found).")
      .option("-w, --workflow <workflow>", "only runs of this workflow")
      .option("--plan <id>", "only runs of this plan")
      .option("-s, --status <status>", `only runs with this status (${STATUSES.join(", ")})`)
      .option("-n, --limit <n>", "at most this many runs", "20")
      .action(
        async (
          options: { workflow?: string; plan?: string; status?: string; limit: string },
          command: Command,
        ) => {
          const ctx = contextOf(command);
          const limit = Number(options.limit);
          if (!Number.isInteger(limit) || limit < 1)
            throw new UsageError(`--limit must be a positive number; got "${options.limit}"`);
          if (options.status && !STATUSES.includes(options.status as (typeof STATUSES)[number])) {
            throw new UsageError(`--status must be one of ${STATUSES.join(", ")}; got "${options.status}"`);
          }
          const client = await ctx.client();
          const query = {
            ...(options.workflow ? { workflow: options.workflow } : {}),
            ...(options.plan ? { plan: options.plan } : {}),
            ...(options.status ? { status: options.status } : {}),
            limit: Math.min(limit, 200),
          } as { workflow?: never; plan?: string; status?: never; limit: number };
          const items = await take(
            paginate((cursor) =>
              client.api.GET("/v1/runs", { params: { query: { ...query, ...(cursor ? { cursor } : {}) } } }),
            ),
            limit,
          );
          if (ctx.json) return printJson(items);
          if (items.length === 0) return console.log("No runs match.");
          console.log(
            table(
              ["RUN", "PLAN", "STATUS", "STARTED", "UPDATED"],
              items.map((run) => [
                run.runId,
                `${run.planId} v${run.planVersion}`,
                run.status,
                formatTime(run.startedAt),
                formatTime(run.updatedAt),
              ]),
              ctx.colors,
            ),
          );
        },
      ),
    [
      "aat runs list",
      "aat runs list --status waiting --plan alerts.triage",
      "aat runs list --json --limit 100",
    ],
  );

  examples(
    runs
      .command("show")
      .description("A run: status, every step (status, attempt, error) and the output.")
      .argument("<id>", "run id")
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const detail = await unwrap(
          client.api.GET("/v1/runs/{id}", { params: { path: { id }, query: { eventsLimit: 0 } } }),
        );
        if (ctx.json) return printJson(detail.run);
        const { run } = detail;
        const { colors } = ctx;
        console.log(
          `${colors.bold(`run ${run.runId}`)} · ${run.plan.id} v${run.plan.version} · ${run.status}`,
        );
        console.log(
          `started ${formatTime(run.startedAt)}${run.finishedAt ? `, finished ${formatTime(run.finishedAt)}` : ""}`,
        );
        const steps = Object.entries(run.steps);
        if (steps.length > 0) {
          console.log(
            table(
              ["STEP", "STATUS", "ATTEMPT", "NOTE"],
              steps.map(([key, step]) => {
                const record = step as { status?: string; attempt?: number; error?: { message?: string } };
                return [
                  key,
                  String(record.status ?? ""),
                  String(record.attempt ?? ""),
                  record.error?.message ?? "",
                ];
              }),
              colors,
            ),
          );
        }
        if (run.error) console.log(colors.red(`error: ${run.error.message}`));
        if (run.output !== undefined) console.log(JSON.stringify(run.output, null, 2));
      }),
    ["aat runs show 0190…", "aat runs show 0190… --json | jq .steps"],
  );

  examples(
    runs
      .command("watch")
      .description("Follow a run live until it finishes (like `aat run` without starting one).")
      .argument("<id>", "run id")
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const result = await followRun(client, id, {
          tty: ctx.tty && !ctx.json,
          colors: ctx.colors,
          quiet: ctx.json,
        });
        reportOutcome(id, result, ctx.json);
      }),
    ["aat runs watch 0190…"],
  );

  examples(
    runs
      .command("cancel")
      .description("Cancel a run that has not finished.")
      .argument("<id>", "run id")
      .option("-r, --reason <text>", "why (kept in the run's log)")
      .action(async (id: string, options: { reason?: string }, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const result = await unwrap(
          client.api.POST("/v1/runs/{id}/cancel", {
            params: { path: { id } },
            body: options.reason ? { reason: options.reason } : {},
          }),
        );
        if (ctx.json) return printJson(result);
        console.log(`run ${result.runId}: ${result.status}`);
      }),
    ["aat runs cancel 0190… --reason 'duplicate alert'"],
  );

  for (const decision of ["approve", "reject"] as const) {
    examples(
      runs
        .command(decision)
        .description(`${decision === "approve" ? "Approve" : "Reject"} a step waiting for a person.`)
        .argument("<id>", "run id")
        .argument("<step>", "the step's instance key (e.g. contain, or enrich[2]/ask inside a map)")
        .option("-r, --rationale <text>", "why (recorded with the decision)")
        .action(async (id: string, step: string, options: { rationale?: string }, command: Command) => {
          const ctx = contextOf(command);
          const client = await ctx.client();
          const path = `/v1/runs/{id}/steps/{stepId}/${decision}` as const;
          const result = await unwrap(
            client.api.POST(path, {
              params: { path: { id, stepId: step } },
              body: options.rationale ? { rationale: options.rationale } : {},
            }),
          );
          if (ctx.json) return printJson(result);
          console.log(
            `run ${result.runId}: step ${step} ${decision === "approve" ? "approved" : "rejected"}; the run is ${result.status}`,
          );
        }),
      [`aat runs ${decision} 0190… contain --rationale 'confirmed on the EDR console'`],
    );
  }
}
