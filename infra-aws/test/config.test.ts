import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { secretEnvName as coreSecretEnvName } from "@aat/core/secrets";
import { DeployConfigError, webhookSecretEnv } from "@aat/infra-config";
import { afterAll, describe, expect, it } from "vitest";
import { loadAwsConfig } from "../src/config.js";
import { INDEX_REWRITE } from "../src/site.js";
import { SiteNotBuiltError, siteDist } from "../src/site-assets.js";
import { BASE_YAML } from "./support.js";

const infraDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const scratch = mkdtempSync(join(tmpdir(), "aat-infra-aws-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(path: string): DeployConfigError {
  try {
    loadAwsConfig(path);
  } catch (error) {
    if (error instanceof DeployConfigError) return error;
    throw error;
  }
  throw new Error(`${path} was accepted`);
}

describe("deploy configuration checks before synth", () => {
  it("a bad value stops the CDK app with the file, line, key and reason, before anything is built", () => {
    const path = file("bad.yaml", `${BASE_YAML}aws:\n  region: eu-west-1\n  queue: { batchSize: 11 }\n`);
    const run = spawnSync(process.execPath, ["--import", "tsx", "src/app.ts"], {
      cwd: infraDir,
      env: { ...process.env, AAT_DEPLOY_CONFIG: path },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${path}:`);
    expect(run.stderr).toMatch(/aws\.queue\.batchSize: Too big: expected number to be <=10/);
    expect(run.stderr).toContain("docs/deploy-config.md");
    expect(run.stdout).toBe("");
  });

  it("a missing aws section is named with an example", () => {
    const error = problemsOf(file("noaws.yaml", BASE_YAML));
    expect(error.problems).toEqual([expect.objectContaining({ key: "aws" })]);
    expect(error.message).toContain("aws: { region: eu-west-1 }");
  });

  it("a custom domain without an ACM certificate is refused with the key to set", () => {
    const error = problemsOf(
      file("domain.yaml", `${BASE_YAML}domain: aat.example.com\naws: { region: eu-west-1 }\n`),
    );
    expect(error.problems[0]?.key).toBe("aws.certificateArn");
    expect(error.message).toMatch(/us-east-1/);
  });

  it("a visibility timeout under the worker timeout is refused (Lambda would reject the SQS trigger)", () => {
    const error = problemsOf(
      file(
        "visibility.yaml",
        `${BASE_YAML}aws:\n  region: eu-west-1\n  queue: { visibilityTimeoutSeconds: 120 }\n`,
      ),
    );
    expect(error.problems[0]?.key).toBe("aws.queue.visibilityTimeoutSeconds");
    expect(error.message).toContain("sizes.worker.timeoutSeconds (300 s)");
  });

  it("aws.environment may not set the stack's own variables or secret values", () => {
    const stackOwned = problemsOf(
      file("env1.yaml", `${BASE_YAML}aws:\n  region: eu-west-1\n  environment: { AAT_KV_KIND: redis }\n`),
    );
    expect(stackOwned.problems[0]?.key).toBe("aws.environment.AAT_KV_KIND");
    expect(stackOwned.message).toContain("set by the stack");
    const secret = problemsOf(
      file("env2.yaml", `${BASE_YAML}aws:\n  region: eu-west-1\n  environment: { AAT_SECRET_HOOK: x }\n`),
    );
    expect(secret.problems[0]?.key).toBe("aws.environment.AAT_SECRET_HOOK");
    expect(secret.message).toContain("webhookSecrets");
  });

  it("accepts the shipped example", () => {
    const config = loadAwsConfig(resolve(infraDir, "../deploy.config.example.yaml"));
    expect(config.aws.region).toBe("eu-west-1");
  });
});

describe("site build and secret names", () => {
  it("a missing site build says to run npm run build (or set site: false)", () => {
    expect(() => siteDist(join(scratch, "no-site"))).toThrow(SiteNotBuiltError);
    expect(() => siteDist(join(scratch, "no-site"))).toThrow(/npm run build.*site: false/s);
  });

  it("names webhook secret variables exactly as core's Secrets port reads them", () => {
    for (const name of ["aat-webhook-demo", "falco_hook", "a.b/c"]) {
      expect(webhookSecretEnv(name)).toBe(coreSecretEnvName(name));
    }
  });
});

describe("CloudFront page rewrite", () => {
  // The viewer-request function's source, run as CloudFront would: its `handler(event)` returns the request.
  const handler = new Function(`${INDEX_REWRITE}; return handler;`)() as (event: {
    request: { uri: string };
  }) => { uri: string };
  const rewrite = (uri: string) => handler({ request: { uri } }).uri;

  it("serves Astro's directory pages and leaves files alone", () => {
    expect(rewrite("/")).toBe("/index.html");
    expect(rewrite("/runs")).toBe("/runs/index.html");
    expect(rewrite("/runs/")).toBe("/runs/index.html");
    expect(rewrite("/v1.2/page")).toBe("/v1.2/page/index.html");
    expect(rewrite("/config.json")).toBe("/config.json");
    expect(rewrite("/_astro/app.3f2a.js")).toBe("/_astro/app.3f2a.js");
  });
});
