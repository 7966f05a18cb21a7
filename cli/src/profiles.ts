import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import envPaths from "env-paths";
import { z } from "zod";
import { CliError } from "./errors.js";

const profileSchema = z.object({ url: z.string().url(), key: z.string().min(1).optional() });
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

/** Stores a profile (file mode 0600: it holds an API key) and makes it the current one. */
export async function saveProfile(name: string, profile: Profile): Promise<string> {
  const path = profilesPath();
  const file = await readProfiles(path);
  file.profiles[name] = profile;
  file.current = name;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
  return path;
}

export async function listProfiles(): Promise<{ current?: string; profiles: Record<string, Profile> }> {
  const file = await readProfiles(profilesPath());
  return { ...(file.current ? { current: file.current } : {}), profiles: file.profiles };
}
