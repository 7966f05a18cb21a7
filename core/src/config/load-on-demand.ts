import { configFile, fromReading, type LoadConfigOptions, type LoadedConfig } from "./assemble.js";

/**
 * loadConfig, with the YAML parser (the config file's reader) loaded only when a config file is named:
 * a serverless function configured from its environment alone never loads it, which takes the parser
 * (112 KiB) out of its cold start (docs/benchmarks.md, cold start). Same result and errors.
 */
export async function loadConfigOnDemand(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = configFile(options);
  const reading = file ? (await import("./file.js")).readConfigFile(file.path, file.namedBy) : undefined;
  return fromReading(options, file, reading);
}
