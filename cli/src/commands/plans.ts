import { readFileSync } from "node:fs";
import { AatApiError, unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { createTwoFilesPatch, diffLines } from "diff";
import { type CommandContext, contextOf } from "../context.js";
import { CliError, UsageError } from "../errors.js";
import { type Colors, formatTime, printJson, table } from "../output.js";
import { checkPlanPaths } from "../plan-files.js";
import { examples } from "../program.js";

export function registerPlans(program: Command): void {
  const plans = examples(
    program.command("plans").description("Validate, list, show, diff and publish plans."),
    ["aat plans validate plans/", "aat plans publish plans/automation/hello.yaml --dry-run"],
  );

  examples(
    plans
      .command("validate")
      .description(
        "Check plan files offline (no server): prints every error as file:line:col path: reason and exits 1 when any file has one. Folders are searched for *.yaml.",
      )
      .argument("<paths...>", "plan files or folders")
      .action((paths: string[], _options: unknown, command: Command) => validate(contextOf(command), paths)),
    [
      "aat plans validate plans/",
      "aat plans validate plans/automation/hello.yaml --json",
      "git diff --name-only --cached -- '*.yaml' | xargs aat plans validate",
    ],
  );

  examples(
    plans
      .command("list")
      .description("The current version of every published plan.")
      .action(async (_options: unknown, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const { items } = await unwrap(client.api.GET("/v1/plans"));
        if (ctx.json) return printJson(items);
        if (items.length === 0)
          return console.log("No plans yet: publish one with `aat plans publish FILE`.");
        console.log(
          table(
            ["ID", "VERSION", "WORKFLOW", "TITLE"],
            items.map((plan) => [plan.id, `v${plan.version}`, plan.workflow, plan.title]),
            ctx.colors,
          ),
        );
      }),
    ["aat plans list", "aat plans list --json"],
  );

  examples(
    plans
      .command("show")
      .description("A plan's versions and the YAML of its current version (or --plan-version N).")
      .argument("<id>", "plan id")
      .option("--plan-version <n>", "show this version's YAML", positiveInt)
      .action(async (id: string, options: { planVersion?: number }, command: Command) => {
        const ctx = contextOf(command);
        const client = await ctx.client();
        const detail = await unwrap(client.api.GET("/v1/plans/{id}", { params: { path: { id } } }));
        const version = options.planVersion ?? detail.plan.version;
        const source = await versionSource(ctx, id, version);
        if (ctx.json) return printJson({ ...detail, source: { version, yaml: source } });
        const { colors } = ctx;
        console.log(
          `${colors.bold(detail.plan.id)} v${detail.plan.version} (${detail.plan.workflow}): ${detail.plan.title}`,
        );
        console.log(
          table(
            ["VERSION", "PUBLISHED", "BY", "HASH"],
            detail.versions.map((v) => [
              `v${v.version}`,
              formatTime(v.publishedAt) || v.origin,
              v.publishedBy ?? "",
              v.hash.slice(0, 12),
            ]),
            colors,
          ),
        );
        console.log(colors.dim(`--- v${version}`));
        process.stdout.write(source.endsWith("\n") ? source : `${source}\n`);
      }),
    ["aat plans show automation.hello", "aat plans show automation.hello --plan-version 1"],
  );

  examples(
    plans
      .command("diff")
      .description(
        "Differences between two versions of a plan (default: the one before the current, and the current).",
      )
      .argument("<id>", "plan id")
      .argument("[v1]", "older version", positiveInt)
      .argument("[v2]", "newer version (default: current)", positiveInt)
      .action(
        async (
          id: string,
          v1: number | undefined,
          v2: number | undefined,
          _options: unknown,
          command: Command,
        ) => {
          const ctx = contextOf(command);
          const client = await ctx.client();
          const detail = await unwrap(client.api.GET("/v1/plans/{id}", { params: { path: { id } } }));
          const newer = v2 ?? detail.plan.version;
          const older = v1 ?? newer - 1;
          if (older < 1) throw new CliError(`${id} has only version ${newer}; nothing to compare it with`);
          const [a, b] = [await versionSource(ctx, id, older), await versionSource(ctx, id, newer)];
          const patch = createTwoFilesPatch(`${id} v${older}`, `${id} v${newer}`, a, b);
          if (ctx.json) return printJson({ id, from: older, to: newer, changed: a !== b, patch });
          if (a === b) return console.log(`${id}: v${older} and v${newer} have the same text`);
          process.stdout.write(colorPatch(patch, ctx.colors));
        },
      ),
    ["aat plans diff automation.hello", "aat plans diff automation.hello 1 3"],
  );

  examples(
    plans
      .command("publish")
      .description(
        "Publish plan files as new versions (checked offline first, then by the server) and print what changed. Unchanged files publish nothing.",
      )
      .argument("<paths...>", "plan files or folders")
      .option("--dry-run", "validate on the server and show what would change, publish nothing")
      .action((paths: string[], options: { dryRun?: boolean }, command: Command) =>
        publish(contextOf(command), paths, options.dryRun === true),
      ),
    ["aat plans publish plans/automation/hello.yaml", "aat plans publish plans/ --dry-run"],
  );
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`"${value}" is not a version number (1, 2, …)`);
  return n;
}

async function versionSource(ctx: CommandContext, id: string, version: number): Promise<string> {
  const client = await ctx.client();
  const found = await unwrap(
    client.api.GET("/v1/plans/{id}/versions/{v}", { params: { path: { id, v: version } } }),
  );
  return found.source;
}

async function validate(ctx: CommandContext, paths: string[]): Promise<void> {
  const { checks, missing } = await checkPlanPaths(paths);
  const failed = checks.filter((check) => !check.ok).length + missing.length;
  if (ctx.json) {
    printJson({
      checked: checks.length,
      failed,
      missing,
      files: checks.map((check) =>
        check.ok
          ? { file: check.file, ok: true, id: check.id, version: check.version }
          : { file: check.file, ok: false, errors: check.errors },
      ),
    });
  } else {
    for (const root of missing) {
      console.error(`${root}: no such file or directory; pass plan files or folders holding *.yaml plans`);
    }
    for (const check of checks) {
      if (check.ok) console.log(`ok   ${check.file} (${check.id} v${check.version})`);
      else for (const error of check.errors) console.error(error.formatted);
    }
    console.log(`${checks.length} plan file(s) checked, ${failed} with errors`);
  }
  if (failed > 0) process.exitCode = 1;
}

interface PublishOutcome {
  file: string;
  id: string;
  status: "published" | "unchanged" | "would-publish" | "new";
  from?: number;
  to?: number;
  added: number;
  removed: number;
  patch?: string;
}

async function publish(ctx: CommandContext, paths: string[], dryRun: boolean): Promise<void> {
  const { checks, missing } = await checkPlanPaths(paths);
  if (missing.length > 0) throw new UsageError(`${missing.join(", ")}: no such file or directory`);
  const invalid = checks.filter((check) => !check.ok);
  if (invalid.length > 0) {
    for (const check of invalid)
      if (!check.ok) for (const error of check.errors) console.error(error.formatted);
    throw new CliError(
      `${invalid.length} plan file(s) have errors; nothing was published (fix them, then publish again)`,
    );
  }
  const client = await ctx.client();
  const outcomes: PublishOutcome[] = [];
  for (const check of checks) {
    if (!check.ok) continue;
    const current = await currentSource(ctx, check.id);
    const text = readFileSync(check.file, "utf8");
    let outcome: PublishOutcome;
    if (dryRun) {
      const result = await unwrap(client.api.POST("/v1/plans/validate", { body: { yaml: text } }));
      if (!result.valid) {
        for (const error of result.errors) console.error(error.formatted.replace(/^plan\.yaml/, check.file));
        throw new CliError(`${check.file} is not valid on the server; nothing was published`);
      }
      const changed = current === undefined || stripVersion(current.source) !== stripVersion(text);
      outcome = {
        file: check.file,
        id: check.id,
        status: current === undefined ? "new" : changed ? "would-publish" : "unchanged",
        ...(current
          ? { from: current.version, to: changed ? current.version + 1 : current.version }
          : { to: 1 }),
        ...changes(current?.source ?? "", text, changed, check.id),
      };
    } else {
      const result = await unwrap(
        client.api.PUT("/v1/plans/{id}", { params: { path: { id: check.id } }, body: { yaml: text } }),
      );
      const published = result.unchanged ? undefined : await versionSource(ctx, check.id, result.version);
      outcome = {
        file: check.file,
        id: check.id,
        status: result.unchanged ? "unchanged" : "published",
        ...(current ? { from: current.version } : {}),
        to: result.version,
        ...changes(current?.source ?? "", published ?? text, !result.unchanged, check.id),
      };
    }
    outcomes.push(outcome);
  }
  if (ctx.json) return printJson({ dryRun, plans: outcomes });
  for (const outcome of outcomes) console.log(describeOutcome(outcome, ctx.colors));
  const changedCount = outcomes.filter((o) => o.status !== "unchanged").length;
  console.log(
    dryRun
      ? `dry run: ${changedCount} of ${outcomes.length} plan(s) would change; nothing was published`
      : `${changedCount} of ${outcomes.length} plan(s) published`,
  );
}

async function currentSource(
  ctx: CommandContext,
  id: string,
): Promise<{ version: number; source: string } | undefined> {
  const client = await ctx.client();
  try {
    const detail = await unwrap(client.api.GET("/v1/plans/{id}", { params: { path: { id } } }));
    return { version: detail.plan.version, source: await versionSource(ctx, id, detail.plan.version) };
  } catch (error) {
    if (error instanceof AatApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** Publishing replaces the text's own `version:` field, so it does not count as a change. */
function stripVersion(text: string): string {
  return text.replace(/^version:.*(\r?\n|$)/m, "").trim();
}

function changes(beforeText: string, afterText: string, changed: boolean, id: string) {
  if (!changed) return { added: 0, removed: 0 };
  // The `version:` line is the server's to set; the v1 → v2 of the summary says it.
  const before = beforeText ? `${stripVersion(beforeText)}\n` : "";
  const after = afterText ? `${stripVersion(afterText)}\n` : "";
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    if (part.added) added += part.count ?? 0;
    if (part.removed) removed += part.count ?? 0;
  }
  return { added, removed, patch: createTwoFilesPatch(`${id} (current)`, `${id} (new)`, before, after) };
}

function describeOutcome(outcome: PublishOutcome, colors: Colors): string {
  const stat = `${colors.green(`+${outcome.added}`)} ${colors.red(`-${outcome.removed}`)}`;
  switch (outcome.status) {
    case "published":
      return outcome.from === undefined
        ? `${colors.green("published")} ${outcome.id} v${outcome.to} (new plan, ${stat} lines) from ${outcome.file}`
        : `${colors.green("published")} ${outcome.id} v${outcome.from} → v${outcome.to} (${stat} lines) from ${outcome.file}\n${indent(outcome.patch ?? "")}`;
    case "unchanged":
      return `${colors.dim("unchanged")} ${outcome.id} v${outcome.to} (${outcome.file} matches the current version)`;
    case "new":
      return `${colors.yellow("would publish")} ${outcome.id} v1 (new plan, ${stat} lines) from ${outcome.file}`;
    case "would-publish":
      return `${colors.yellow("would publish")} ${outcome.id} v${outcome.from} → v${outcome.to} (${stat} lines) from ${outcome.file}\n${indent(outcome.patch ?? "")}`;
  }
}

function indent(patch: string): string {
  return patch
    .split("\n")
    .slice(2)
    .filter((line) => line !== "")
    .map((line) => `    ${line}`)
    .join("\n");
}

function colorPatch(patch: string, colors: Colors): string {
  return patch
    .split("\n")
    .map((line) =>
      line.startsWith("+") && !line.startsWith("+++")
        ? colors.green(line)
        : line.startsWith("-") && !line.startsWith("---")
          ? colors.red(line)
          : line.startsWith("@@")
            ? colors.cyan(line)
            : line,
    )
    .join("\n");
}
