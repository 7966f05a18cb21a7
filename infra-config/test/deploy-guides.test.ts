import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const scripts: Record<string, string> = JSON.parse(read("package.json")).scripts;

/** Every deploy guide, with the root scripts a user of that target needs. */
const GUIDES = {
  aws: ["synth:aws", "deploy:aws", "destroy:aws"],
  gcp: ["synth:gcp", "deploy:gcp", "destroy:gcp"],
  azure: ["synth:azure", "deploy:azure", "destroy:azure"],
  onprem: ["synth:onprem", "deploy:onprem", "destroy:onprem"],
} as const;

describe("deploy guides", () => {
  for (const [target, needed] of Object.entries(GUIDES)) {
    it(`docs/deploy-${target}.md names only package scripts that exist, its target's among them`, () => {
      const guide = read(`docs/deploy-${target}.md`);
      const named = [...guide.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
      for (const script of named)
        expect(scripts[script], `npm run ${script} (docs/deploy-${target}.md)`).toBeDefined();
      expect(named).toEqual(expect.arrayContaining([...needed]));
      // Arguments after `--` reach the tool only when the script ends in a pass-through `--` or runs it directly.
      for (const [, script] of guide.matchAll(/npm run ([\w:-]+) -- /g)) {
        const command = scripts[script!]!;
        expect(command.startsWith("npm run ") ? command.endsWith(" --") : true, `${script}: ${command}`).toBe(
          true,
        );
      }
    });
  }

  it("are linked from the README", () => {
    const readme = read("README.md");
    for (const target of Object.keys(GUIDES)) expect(readme).toContain(`docs/deploy-${target}.md`);
  });
});
