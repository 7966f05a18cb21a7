/**
 * The CDKTF app for Google Cloud (`npm run synth:gcp`, `npm run deploy:gcp`; cdktf.json runs it with tsx).
 * Reads the deploy configuration (AAT_DEPLOY_CONFIG, else deploy.config.yaml at the repository root),
 * bundles the functions/gcp functions and synthesises the stack `<name>-<environment>-gcp` into cdktf.out.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deployCodeCacheTargets } from "@aat/functions-serverless/bundle";
import { DeployConfigError } from "@aat/infra-config";
import { App } from "cdktf";
import { loadGcpConfig } from "./config.js";
import { buildGcpSources } from "./source.js";
import { GcpStack } from "./stack.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const configFile = process.env.AAT_DEPLOY_CONFIG
  ? resolve(process.env.INIT_CWD ?? process.cwd(), process.env.AAT_DEPLOY_CONFIG)
  : join(repo, "deploy.config.yaml");

try {
  const config = loadGcpConfig(configFile);
  // The V8 code cache the functions ship (on by default; x64, no V8 flags of the platform known).
  const compileCache = deployCodeCacheTargets("infra-gcp", "x64");
  const functionSources = await buildGcpSources(join(here, "../.build"), compileCache);
  const siteDir = join(repo, "site/dist");
  const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? join(here, "../cdktf.out") });
  new GcpStack(app, `${config.name}-${config.environment}-gcp`, {
    config,
    functionSources,
    ...(config.site || existsSync(siteDir) ? { siteDir } : {}),
  });
  app.synth();
} catch (error) {
  if (error instanceof DeployConfigError || (error as Error).name === "SiteNotBuiltError") {
    console.error((error as Error).message);
    process.exit(1);
  }
  throw error;
}
