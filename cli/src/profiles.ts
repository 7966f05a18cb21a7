import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import envPaths from "env-paths";
import lockfile from "proper-lockfile";
import { z } from "zod";
import { CliError } from "./errors.js";

const profileSchema = z.object({
  url: z.string().url(),
  key: z.string().min(1).optional(),
  /** Webhook source id → the secret `aat sources create|rotate` got for it on this server. */
  sourceSecrets: z.record(z.string(), z.string().min(1)).optional(),
});
const fileSchema = z.object({
  current: z.string().optional(),
  profiles: z.record(z.string(), profileSchema).default({}),
});
export type Profile = z.infer<typeof profileSchema>;
type ProfilesFile = z.infer<typeof fileSchema>;

/** $AAT_CONFIG_DIR, else the user's config directory (XDG_CONFIG_HOME on Linux, via env-paths). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.AAT_CONFIG_DIR || envPaths("aat", { suffix: "" }).config;
}

export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), "profiles.json");
}

async function readProfiles(path: string): Promise<ProfilesFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { profiles: {} };
    throw error;
  }
  const parsed = fileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new CliError(
      `${path} is not a valid profiles file; fix it or run \`aat login\` again after deleting it`,
    );
  }
  return parsed.data;
}

export async function loadProfile(name: string | undefined): Promise<{ name: string; profile?: Profile }> {
  const file = await readProfiles(profilesPath());
  const chosen = name ?? file.current ?? "default";
  const profile = file.profiles[chosen];
  return profile ? { name: chosen, profile } : { name: chosen };
}

/**
 * Changes the profiles file under an exclusive lock (two `aat` commands at once must not lose each
 * other's change) and replaces it atomically, mode 0600: it holds API keys and source secrets.
 */
async function updateProfiles(change: (file: ProfilesFile) => void): Promise<string> {
  const path = profilesPath();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const release = await lockfile.lock(dirname(path), {
    lockfilePath: `${path}.lock`,
    retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
    stale: 10_000,
  });
  try {
    const file = await readProfiles(path);
    change(file);
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, path);
    return path;
  } finally {
    await release();
  }
}

/**
 * Stores a profile and makes it the current one. Source secrets saved for the same URL are kept
 * (logging in again with a new key does not forget them).
 */
export async function saveProfile(name: string, profile: Profile): Promise<string> {
  return updateProfiles((file) => {
    const previous = file.profiles[name];
    const keep = previous?.url === profile.url && previous.sourceSecrets ? previous.sourceSecrets : undefined;
    file.profiles[name] = { ...profile, ...(keep && !profile.sourceSecrets ? { sourceSecrets: keep } : {}) };
    file.current = name;
  });
}

/**
 * Stores a webhook source's secret in profile `name` (created for `url` when there is none yet, and
 * then made current if no profile is), for `aat alerts send --source ID` to sign with.
 */
export async function saveSourceSecret(
  name: string,
  url: string,
  sourceId: string,
  secret: string,
): Promise<string> {
  return updateProfiles((file) => {
    const profile = file.profiles[name] ?? { url };
    file.profiles[name] = { ...profile, sourceSecrets: { ...profile.sourceSecrets, [sourceId]: secret } };
    file.current ??= name;
  });
}

export async function listProfiles(): Promise<{ current?: string; profiles: Record<string, Profile> }> {
  const file = await readProfiles(profilesPath());
  return { ...(file.current ? { current: file.current } : {}), profiles: file.profiles };
}
