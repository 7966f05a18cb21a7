import { isDeepStrictEqual } from "node:util";
import { listSettings } from "./introspect.js";
import { configFields } from "./schema.js";
import {
  type ConfigSectionTable,
  configSections,
  currentConfigSectionTable,
  useConfigSectionTable,
} from "./section.js";

/**
 * The section table a bundle carries (section.ts): every config section's settings and the value it
 * takes when absent, read from the schema itself, so the table cannot disagree with it. Made at build
 * time by the serverless bundler; a table that would not survive JSON is refused here, not at a cold start.
 */
export function configSectionTable(): ConfigSectionTable {
  const inUse = currentConfigSectionTable();
  useConfigSectionTable(undefined);
  try {
    // Listing the settings builds every section, nested ones included, so all are registered below.
    listSettings(configFields);
    const topLevel = new Set<unknown>(Object.values(configFields._zod.def.shape));
    const table: ConfigSectionTable = {};
    for (const [name, section] of configSections) {
      const defaults: unknown = section.parse(undefined, { jitless: true });
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(defaults)), defaults))
        throw new Error(
          `config section ${name}: its defaults do not survive JSON, so no section table can carry them`,
        );
      table[name] = topLevel.has(section)
        ? { defaults, settings: listSettings(section).map(({ path, meta }) => ({ path, meta })) }
        : { defaults };
    }
    return table;
  } finally {
    useConfigSectionTable(inUse);
  }
}
