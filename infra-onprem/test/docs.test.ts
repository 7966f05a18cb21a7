import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE } from "./kustomize.js";

const root = join(BUNDLE, "..");
const guide = readFileSync(join(root, "docs/deploy-onprem.md"), "utf8");
const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;

describe("docs/deploy-onprem.md", () => {
  it("names only package scripts that exist, and says what each runs", () => {
    const named = [...guide.matchAll(/npm run ([\w:-]+)(?:[^\n#]*#\s*(.*))?/g)];
    expect(named.map((m) => m[1])).toEqual(
      expect.arrayContaining(["synth:onprem", "build:onprem", "deploy:onprem", "destroy:onprem"]),
    );
    let compared = 0;
    for (const [, script, comment] of named) {
      expect(scripts[script!], `npm run ${script}`).toBeDefined();
      // A comment that shows the command must show the script's command.
      const shown = /^(kubectl [^)]+?)\s*$/.exec(comment?.replace(/\)$/, "") ?? "")?.[1];
      if (shown) {
        expect(scripts[script!]).toBe(shown);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(2);
  });

  it("links the static overlays and components that exist", () => {
    for (const [, path] of guide.matchAll(/infra-onprem\/((?:overlays|components)\/\w+)/g)) {
      expect(() => readFileSync(join(BUNDLE, path!, "kustomization.yaml"))).not.toThrow();
    }
  });
});
