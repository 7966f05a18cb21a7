import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DeployConfigError, deployConfigPath, loadDeployConfig } from "@aat/infra-config";
import { generateOverlay } from "./overlay.js";

/**
 * `npm run synth:onprem [-- --config FILE] [--out DIR]`: reads the deploy config and writes the overlay
 * `kubectl apply -k` deploys (default infra-onprem/generated). A bad config prints every key and reason
 * and exits 1 without writing anything.
 */
const bundle = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { config: { type: "string" }, out: { type: "string" } },
  allowPositionals: false,
});
const file = values.config ?? deployConfigPath();
const out = resolve(values.out ?? join(bundle, "generated"));

try {
  const config = loadDeployConfig(file);
  const files = generateOverlay(config, { file, bundleRoot: relative(out, bundle) || "." });
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
  const shown = relative(process.cwd(), out) || ".";
  process.stdout.write(`wrote ${shown}/ from ${file}; deploy with: kubectl apply -k ${shown}\n`);
} catch (error) {
  if (!(error instanceof DeployConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
