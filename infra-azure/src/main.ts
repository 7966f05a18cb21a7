/**
 * The CDKTF app for Azure (`npm run synth:azure`, `npm run deploy:azure`; cdktf.json runs it with tsx).
 * Reads the deploy configuration (AAT_DEPLOY_CONFIG, else deploy.config.yaml at the repository root),
 * bundles functions/azure and synthesises the stack `<name>-<environment>-azure` into cdktf.out.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deployCodeCacheTargets } from "@aat/functions-serverless/bundle";
import { DeployConfigError } from "@aat/infra-config";
import { App } from "cdktf";
import { loadAzureConfig } from "./config.js";
import { buildAzureSource } from "./source.js";
import { AzureStack } from "./stack.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const configFile = process.env.AAT_DEPLOY_CONFIG
  ? resolve(process.env.INIT_CWD ?? process.cwd(), process.env.AAT_DEPLOY_CONFIG)
  : join(repo, "deploy.config.yaml");

try {
  const config = loadAzureConfig(configFile);
  // The V8 code cache the functions ship (on by default; x64, no V8 flags of the platform known).
  const compileCache = deployCodeCacheTargets("infra-azure", "x64");
  const functionSource = await buildAzureSource(join(here, "../.build"), compileCache);
  const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? join(here, "../cdktf.out") });
  new AzureStack(app, `${config.name}-${config.environment}-azure`, { config, functionSource });
  app.synth();
} catch (error) {
  if (error instanceof DeployConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
