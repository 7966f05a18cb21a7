import { Command, Option } from "commander";
import { registerAlerts } from "./commands/alerts.js";
import { registerChat } from "./commands/chat.js";
import { registerCompletion } from "./commands/completion.js";
import { registerKeys } from "./commands/keys.js";
import { registerLogin } from "./commands/login.js";
import { registerPlans } from "./commands/plans.js";
import { registerRun } from "./commands/run.js";
import { registerRuns } from "./commands/runs.js";
import { registerSources } from "./commands/sources.js";

export const CLI_VERSION = "0.1.0";

/** The whole command tree; `main.ts` runs it, the docs and completion scripts read it. */
export function createProgram(): Command {
  const program = new Command("aat")
    .description("The aat command line: plans, runs, keys and chat against an aat API.")
    .version(CLI_VERSION, "-V, --version", "print the CLI version")
    .option(
      "-p, --profile <name>",
      "use this saved profile (default: the one `aat login` saved last; env AAT_PROFILE)",
    )
    .option("--url <url>", "API base URL, overriding the profile (env AAT_URL)")
    .option("--key <key>", "API key, overriding the profile (env AAT_API_KEY)")
    .option("--json", "print machine-readable JSON instead of text")
    .addOption(new Option("--no-color", "no colours (also when NO_COLOR is set or output is not a terminal)"))
    .showSuggestionAfterError(true)
    // Set before the subcommands are added: they copy these settings when created.
    .exitOverride()
    .configureOutput({
      // commander's own messages (unknown option, missing argument): one line, then where to look.
      outputError: (text, write) =>
        write(`aat: ${text.replace(/^error: /, "").trim()}; see \`aat --help\`\n`),
    })
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true, helpWidth: 100 })
    .addHelpText(
      "after",
      `
Examples:
  $ aat login --url http://127.0.0.1:8080 --key aat_…
  $ aat plans validate plans/
  $ aat run automation.hello --input '{"names":["Ada"]}'
  $ aat runs list --status waiting --json

Exit codes: 0 success, 1 failure (or a run that failed), 2 usage error, 3 a run that was cancelled.`,
    );

  registerLogin(program);
  registerPlans(program);
  registerRun(program);
  registerRuns(program);
  registerAlerts(program);
  registerSources(program);
  registerChat(program);
  registerKeys(program);
  registerCompletion(program);
  return program;
}

/** Adds an "Examples:" block to a command's help. */
export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText("after", `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}`);
}
