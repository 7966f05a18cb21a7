import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { resourcePrefix } from "@aat/infra-config";
import { App } from "aws-cdk-lib";
import type { LambdaBundles } from "./bundles.js";
import type { AwsDeployConfig } from "./config.js";
import { siteDist } from "./site-assets.js";
import { AatAwsStack } from "./stack.js";

export interface BuildAppOptions {
  config: AwsDeployConfig;
  bundles: LambdaBundles;
  /** The built site; checked only when `config.site` is true. */
  siteDir: string;
  /** CDK output directory (default: CDK's own, cdk.out under `cdk`, a temp dir in tests). */
  outdir?: string;
  /** CDK context; the `cdk` CLI passes cdk.json's itself, tests pass it with cdkJsonContext(). */
  context?: Record<string, unknown>;
}

/** The feature flags and other context of infra-aws/cdk.json, so a test synthesises what `cdk` would. */
export function cdkJsonContext(): Record<string, unknown> {
  const file = fileURLToPath(new URL("../cdk.json", import.meta.url));
  return (JSON.parse(readFileSync(file, "utf8")) as { context?: Record<string, unknown> }).context ?? {};
}

/** The CDK app with the one stack, named `<name>-<environment>`. */
export function buildApp(options: BuildAppOptions): { app: App; stack: AatAwsStack } {
  const { config } = options;
  const siteDir = config.site ? siteDist(options.siteDir) : undefined;
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
  const account = config.aws.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  const stack = new AatAwsStack(app, resourcePrefix(config), {
    config,
    bundles: options.bundles,
    ...(siteDir ? { siteDir } : {}),
    env: { region: config.aws.region, ...(account ? { account } : {}) },
    description: `aat ${config.environment} (${config.name}): API, workers, queue, state and site`,
    tags: { application: "aat", "aat:name": config.name, "aat:environment": config.environment },
  });
  return { app, stack };
}
