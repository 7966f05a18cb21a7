import { createAatClient, unwrap } from "@aat/sdk";
import type { Command } from "commander";
import { contextOf, type GlobalOptions } from "../context.js";
import { UsageError } from "../errors.js";
import { printJson } from "../output.js";
import { listProfiles, saveProfile } from "../profiles.js";
import { examples } from "../program.js";

export function registerLogin(program: Command): void {
  const login = program
    .command("login")
    .description(
      'Save --url and --key as a profile (--profile NAME, default "default") in a 0600 file in your config directory; the key is checked against the API first.',
    )
    .option("--no-verify", "save without checking the key against the API")
    .action(async (local: { verify: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const globals = command.optsWithGlobals<GlobalOptions>();
      const url = globals.url ?? process.env.AAT_URL;
      let key = globals.key ?? process.env.AAT_API_KEY;
      if (!key && process.stdin.isTTY && process.stdout.isTTY) key = await askForKey();
      if (!url) throw new UsageError("aat login needs --url URL (and --key KEY): where the API is");
      const name = globals.profile ?? "default";
      const options = { url, ...(key ? { key } : {}), verify: local.verify };
      if (options.verify) {
        const client = createAatClient({
          baseUrl: options.url,
          ...(options.key ? { bearerToken: options.key } : {}),
        });
        await unwrap(client.api.GET("/v1/plans"));
      }
      const path = await saveProfile(name, {
        url: options.url,
        ...(options.key ? { key: options.key } : {}),
      });
      if (ctx.json) printJson({ profile: name, url: options.url, file: path });
      else console.log(`Saved profile ${ctx.colors.bold(name)} for ${options.url} in ${path}`);
    });
  examples(login, [
    "aat login --url http://127.0.0.1:8080 --key aat_…",
    "aat login --profile prod --url https://aat.example.com --key aat_…",
  ]);

  const profiles = program
    .command("profiles")
    .description("List the saved profiles (keys are not shown).")
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command);
      const { current, profiles } = await listProfiles();
      const rows = Object.entries(profiles).map(([name, profile]) => ({
        name,
        url: profile.url,
        current: name === current,
        hasKey: profile.key !== undefined,
      }));
      if (ctx.json) return printJson(rows);
      if (rows.length === 0) return console.log("No profiles yet: run `aat login --url URL --key KEY`.");
      for (const row of rows) console.log(`${row.current ? "*" : " "} ${row.name}  ${row.url}`);
    });
  examples(profiles, ["aat profiles", "aat profiles --json"]);
}

/** At a terminal without --key: ask for it without echoing it. */
async function askForKey(): Promise<string | undefined> {
  const { isCancel, password } = await import("@clack/prompts");
  const answer = await password({ message: "API key (aat_…; empty for none)" });
  if (isCancel(answer)) throw new UsageError("login cancelled");
  return answer || undefined;
}
