/**
 * The CDK app (cdk.json: `npx tsx src/app.ts`). Reads the deploy configuration (AAT_DEPLOY_CONFIG, else
 * deploy.config.yaml at the repository root), builds the real Lambda bundles, checks the site build, then
 * synthesises. Any problem stops here with what is wrong and how to fix it.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildLambdaBundles, lambdaCodeCaches } from "./bundles.js";
import { loadAwsConfig } from "./config.js";
import { buildApp } from "./synth.js";

const infraDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(infraDir, "..");

/**
 * `cdk` runs the app in infra-aws/ (through npx, which resets INIT_CWD), so a relative AAT_DEPLOY_CONFIG
 * is taken from the repository root, where `npm run deploy:aws` is typed; then from infra-aws/.
 */
function configPath(): string {
  const named = process.env.AAT_DEPLOY_CONFIG;
  if (!named) return join(repoRoot, "deploy.config.yaml");
  if (isAbsolute(named)) return named;
  const fromRoot = resolve(repoRoot, named);
  return existsSync(fromRoot) || !existsSync(resolve(named)) ? fromRoot : resolve(named);
}

try {
  const config = loadAwsConfig(configPath());
  const { caches, warning } = lambdaCodeCaches(config);
  if (warning) console.warn(warning);
  const bundles = await buildLambdaBundles(join(infraDir, ".build"), caches);
  const { app } = buildApp({ config, bundles, siteDir: join(repoRoot, "site/dist") });
  app.synth();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
