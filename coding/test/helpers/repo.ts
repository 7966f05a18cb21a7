import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** Writes `files` (path → content) under a fresh temporary directory; returns the base directory. */
export async function writeTree(
  files: Record<string, string | Buffer>,
  prefix = "aat-coding-",
): Promise<string> {
  const base = await mkdtemp(path.join(tmpdir(), prefix));
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(base, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return base;
}

/** A small repository to index: code in several languages, ignored files, a binary and an oversized file. */
export const fixtureRepository: Record<string, string | Buffer> = {
  ".gitignore": "dist/\n*.log\n",
  "src/auth/login.ts": [
    "import { SessionStore } from './session.js';",
    "",
    "/** Signs a user in and opens a session. */",
    "export async function loginUser(name: string, password: string) {",
    "  const store = new SessionStore();",
    "  return store.open(name, password);",
    "}",
    "",
  ].join("\n"),
  "src/auth/session.ts": [
    "export class SessionStore {",
    "  open(user: string, secret: string) {",
    "    return { user, token: secret.length };",
    "  }",
    "}",
    "",
  ].join("\n"),
  "src/auth/logout.ts": "// ends what login started\nexport function logoutUser() {\n  return true;\n}\n",
  "src/util/strings.ts": "export function padLeft(s: string, n: number) {\n  return s.padStart(n);\n}\n",
  "scripts/report.py": "def build_report(rows):\n    return len(rows)\n",
  "docs/guide.md": "# Guide\n\nCall loginUser once per session.\n",
  "dist/bundle.js": "function loginUser(){}\n",
  "debug.log": "loginUser failed\n",
  "pkg/.gitignore": "generated.ts\n",
  "pkg/generated.ts": "export const loginUserGenerated = 1;\n",
  "pkg/keep.ts": "export const kept = 1;\n",
  "assets/logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x6c, 0x6f, 0x67, 0x69, 0x6e]),
  "data/huge.txt": `${"loginUser ".repeat(300)}\n`,
};
