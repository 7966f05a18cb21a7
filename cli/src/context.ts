import { type AatClient, createAatClient } from "@aat/sdk";
import type { Command } from "commander";
import pc from "picocolors";
import { UsageError } from "./errors.js";
import { type Colors, wantsColor } from "./output.js";
import { loadProfile, type Profile } from "./profiles.js";

/** Options every command takes (declared on the root program). */
export interface GlobalOptions {
  profile?: string;
  url?: string;
  key?: string;
  json?: boolean;
  color?: boolean;
}

export interface CommandContext {
  json: boolean;
  colors: Colors;
  /** True when stdout is a terminal (progress displays, prompts). */
  tty: boolean;
  /** The API client, from --url/--key, AAT_URL/AAT_API_KEY, or the profile (in that order). */
  client(): Promise<AatClient>;
  /** The profile this command uses (--profile, AAT_PROFILE, else the current one), and the API URL. */
  settings(): Promise<Settings>;
}

export interface Settings {
  profileName: string;
  profile?: Profile;
  url: string;
  key?: string;
}

export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const color = wantsColor(process.stdout, options.color);
  return {
    json: options.json === true,
    colors: pc.createColors(color),
    tty: process.stdout.isTTY === true,
    client: async () => {
      const { url, key } = await settingsOf(options);
      return createAatClient({
        baseUrl: url,
        ...(key ? { bearerToken: key } : {}),
        headers: { "user-agent": "aat-cli" },
      });
    },
    settings: () => settingsOf(options),
  };
}

async function settingsOf(options: GlobalOptions): Promise<Settings> {
  const { name, profile } = await loadProfile(options.profile ?? process.env.AAT_PROFILE);
  const url = options.url ?? process.env.AAT_URL ?? profile?.url;
  const key = options.key ?? process.env.AAT_API_KEY ?? profile?.key;
  if (!url) {
    throw new UsageError(
      `no API URL: run \`aat login --url URL --key KEY\`, set AAT_URL, or pass --url (profile "${name}" is not set up)`,
    );
  }
  return { profileName: name, ...(profile ? { profile } : {}), url, ...(key ? { key } : {}) };
}
