import { configFile, fromReading, type LoadConfigOptions, type LoadedConfig } from "./assemble.js";
import { readConfigFile } from "./file.js";

export type { LoadConfigOptions, LoadedConfig } from "./assemble.js";

/**
 * Reads the configuration: schema defaults, then the config file, then environment variables (each layer
 * overrides the one before). Throws ConfigError listing every problem; secrets never appear in it.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const file = configFile(options);
  return fromReading(options, file, file ? readConfigFile(file.path, file.namedBy) : undefined);
}
