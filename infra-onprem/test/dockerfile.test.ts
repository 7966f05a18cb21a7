import { readFileSync } from "node:fs";
import { join } from "node:path";
import { aatConfigSchema } from "@aat/core";
import { describe, expect, it } from "vitest";
import { BUNDLE } from "./kustomize.js";

/**
 * No Docker engine here: the Dockerfile is read as instructions (continuation lines joined, comments
 * dropped) and checked for what the bundle relies on.
 */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [op = "", ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

const dockerfile = instructions(readFileSync(join(BUNDLE, "Dockerfile"), "utf8"));
const stages = dockerfile.reduce<Array<Array<{ op: string; args: string }>>>((all, step) => {
  if (step.op === "FROM") all.push([]);
  all.at(-1)?.push(step);
  return all;
}, []);
const final = stages.at(-1) ?? [];

describe("infra-onprem/Dockerfile", () => {
  it("is multi-stage: manifests, build (site), production deps, runtime", () => {
    const names = stages.map((stage) => /\bAS\s+(\S+)/i.exec(stage[0]?.args ?? "")?.[1]);
    expect(names).toEqual(["manifests", "build", "deps", "runtime"]);
    expect(final[0]?.args).toMatch(/-slim AS runtime$/);
  });

  it("caches the dependency layer: manifests are copied and npm ci runs before any source is copied", () => {
    const deps = stages[2]!;
    const ci = deps.findIndex((s) => s.op === "RUN" && /npm ci --omit=dev/.test(s.args));
    expect(ci).toBeGreaterThan(0);
    expect(deps.slice(0, ci).filter((s) => s.op === "COPY")).toEqual([
      { op: "COPY", args: "--from=manifests /src/ ./" },
    ]);
    expect(
      stages[0]!.some(
        (s) => s.op === "RUN" && /! -name package\.json ! -name package-lock\.json .*-delete/.test(s.args),
      ),
    ).toBe(true);
    // The runtime takes node_modules from deps before the sources, so a source change keeps that layer.
    const copies = final.filter((s) => s.op === "COPY").map((s) => s.args);
    expect(copies[0]).toBe("--from=deps /app/ ./");
  });

  it("runs as a numeric non-root user (Kubernetes runAsNonRoot can only verify a number)", () => {
    const user = final.filter((s) => s.op === "USER").at(-1)?.args ?? "root";
    expect(user).toMatch(/^[1-9]\d*(:\d+)?$/);
  });

  it("exposes the runtime's default port and starts functions/node like npm start", () => {
    const defaultPort = aatConfigSchema.parse({}).server.port;
    expect(final.find((s) => s.op === "EXPOSE")?.args).toBe(String(defaultPort));
    expect(JSON.parse(final.find((s) => s.op === "CMD")?.args ?? "[]")).toEqual([
      "node",
      "--import",
      "tsx",
      "functions/node/src/main.ts",
    ]);
    const rootScripts = JSON.parse(readFileSync(join(BUNDLE, "../package.json"), "utf8")).scripts;
    expect(rootScripts.start).toContain("functions/node/src/main.ts");
    // No AAT_SERVER_PORT: it would override the PORT Knative sets.
    expect(
      final
        .filter((s) => s.op === "ENV")
        .map((s) => s.args)
        .join(" "),
    ).not.toContain("AAT_SERVER_PORT");
  });

  it("keeps host dependencies, git metadata and deploy secrets out of the build context", () => {
    const ignored = readFileSync(join(BUNDLE, "../.dockerignore"), "utf8").split("\n");
    expect(ignored).toEqual(
      expect.arrayContaining(["**/node_modules", ".git", "deploy.config.yaml", "**/.aat"]),
    );
  });
});
