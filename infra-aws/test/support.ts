import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forTarget, parseDeployConfig } from "@aat/infra-config";
import { Template } from "aws-cdk-lib/assertions";
import { buildLambdaBundles, type LambdaBundles } from "../src/bundles.js";
import { checkAwsConfig } from "../src/config.js";
import { buildApp, cdkJsonContext } from "../src/synth.js";

/** A scratch folder with the real Lambda bundles and a stand-in site build (tests never need `npm run build`). */
export interface Workdir {
  dir: string;
  bundles: LambdaBundles;
  siteDir: string;
  cleanup(): void;
}

export async function workdir(): Promise<Workdir> {
  const dir = mkdtempSync(join(tmpdir(), "aat-infra-aws-"));
  const bundles = await buildLambdaBundles(join(dir, "bundles"));
  const siteDir = join(dir, "site");
  mkdirSync(join(siteDir, "runs"), { recursive: true });
  writeFileSync(join(siteDir, "index.html"), "<!doctype html><title>aat</title>");
  writeFileSync(join(siteDir, "runs/index.html"), "<!doctype html><title>runs</title>");
  writeFileSync(join(siteDir, "config.json"), "{}");
  return { dir, bundles, siteDir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const BASE_YAML = `
name: aat
environment: dev
modelSecrets:
  openai: aat-openai-key
  anthropic: aat-anthropic-key
webhookSecrets:
  - aat-webhook-demo
sizes:
  api: { memoryMb: 512, timeoutSeconds: 30, maxInstances: 10, concurrency: 80 }
  worker: { memoryMb: 1024, timeoutSeconds: 300, maxInstances: 10, concurrency: 10 }
site: true
`;

/** Synthesises the stack for a deploy configuration given as YAML text (the same parser as synth). */
export function synth(work: Workdir, yaml: string): Template {
  const config = checkAwsConfig(
    forTarget(parseDeployConfig(yaml, "test.yaml"), "aws", "test.yaml"),
    "test.yaml",
  );
  const { stack } = buildApp({
    config,
    bundles: work.bundles,
    siteDir: work.siteDir,
    context: cdkJsonContext(),
    outdir: join(work.dir, `cdk.out-${Math.random().toString(36).slice(2)}`),
  });
  return Template.fromStack(stack);
}
