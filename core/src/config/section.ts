import * as z from "zod/mini";
import * as core from "zod/v4/core";
import type { SettingMeta } from "./meta.js";

/**
 * Config sections (an object of settings that is `{}` when absent) whose schemas are built on first use.
 *
 * A section is a real prefault — `z.prefault(build(), {})` to every reader of the schema, introspection
 * included — whose inner object is built when something first reads it. On its own that only moves the
 * cost; the gain comes with a section table made at build time (`configSectionTable`, section-table.ts):
 * a serverless bundle carries each section's settings (for reading the environment) and the value an
 * absent section parses to, so a cold start builds and parses only the sections its configuration sets.
 * A function configured with SQS and DynamoDB never builds the NATS, MCP or coding schemas
 * (docs/benchmarks.md, cold start; docs/decisions.md). Without a table every section is built as before.
 */

/**
 * What the build records of one section: what it parses to when absent and, for a top-level section,
 * its settings (paths relative to it, nested sections' included; listing the configuration's settings
 * stops at the top-level sections, so nested ones need none).
 */
export interface ConfigSectionEntry {
  defaults: unknown;
  settings?: { path: string[]; meta: SettingMeta }[];
}

/** Section path (e.g. `queue.nats`) → its entry. */
export type ConfigSectionTable = Record<string, ConfigSectionEntry>;

// The table as JSON, set by the serverless bundler (esbuild `define`); undeclared anywhere else. Read
// when the configuration is first loaded: a JSON string is the cheapest form of it to carry in a bundle.
declare const __AAT_CONFIG_SECTIONS__: string | undefined;

let table: ConfigSectionTable | undefined | null = null;

function current(): ConfigSectionTable | undefined {
  if (table === null)
    table = typeof __AAT_CONFIG_SECTIONS__ === "string" ? JSON.parse(__AAT_CONFIG_SECTIONS__) : undefined;
  return table ?? undefined;
}

/** Uses a section table made by `configSectionTable` (tests; bundles get theirs at build time). */
export function useConfigSectionTable(next: ConfigSectionTable | undefined): void {
  table = next;
}

export function currentConfigSectionTable(): ConfigSectionTable | undefined {
  return current();
}

/** Every section by its path, in the order the modules define them. */
export const configSections = new Map<string, ConfigSection>();

const built = new Set<string>();

/** The sections built so far in this process, by path: what a cold start paid for (tests, benchmarks). */
export function builtConfigSections(): string[] {
  return [...built];
}

interface ConfigSectionDef extends core.$ZodPrefaultDef {
  name: string;
}

export interface ConfigSection<T extends core.SomeType = core.$ZodType> extends z.ZodMiniPrefault<T> {
  _zod: z.ZodMiniPrefault<T>["_zod"] & { def: ConfigSectionDef };
}

// zod's init functions are assertion signatures, which TypeScript calls only through annotated names.
const initPrefault: (inst: ConfigSection, def: ConfigSectionDef) => void = core.$ZodPrefault.init;
const initMiniType: (inst: ConfigSection, def: ConfigSectionDef) => void = z.ZodMiniType.init;

const ZodMiniConfigSection: core.$constructor<ConfigSection> = core.$constructor(
  "ZodMiniConfigSection",
  (inst, def: ConfigSectionDef) => {
    initPrefault(inst, def);
    initMiniType(inst, def);
    const prefaultParse = inst._zod.parse;
    inst._zod.parse = (payload, ctx) => {
      const entry =
        payload.value === undefined && ctx.direction !== "backward" ? current()?.[def.name] : undefined;
      if (!entry) return prefaultParse(payload, ctx);
      payload.value = structuredClone(entry.defaults);
      return payload;
    };
  },
);

/**
 * `z.prefault(build(), {})` with `build` run on first use. `name` is the section's path in the
 * configuration (checked by core/test/config/sections.test.ts): the key of its table entry.
 */
export function configSection<T extends z.ZodMiniObject>(name: string, build: () => T): ConfigSection<T> {
  let inner: T | undefined;
  const section = new ZodMiniConfigSection({
    // A kind of its own, not "prefault": zod's memoizer walks a schema's children by kind on its first
    // parse, which for a prefault means reading innerType and building every section. An unknown kind is
    // walked through its plain fields only, so an unbuilt section stays a leaf. Everything else reads a
    // section as the prefault it is (`instanceof`, optin, parse).
    type: "config_section" as "prefault",
    name,
    get innerType() {
      if (!inner) {
        inner = build();
        built.add(name);
      }
      return inner;
    },
    get defaultValue() {
      return {};
    },
  }) as unknown as ConfigSection<T>;
  configSections.set(name, section);
  return section;
}

/** The settings of a section from the table in use, when the schema is a section the table lists. */
export function tabledSettings(schema: core.$ZodType): ConfigSectionEntry["settings"] {
  if (!(schema instanceof ZodMiniConfigSection)) return undefined;
  return current()?.[(schema as ConfigSection)._zod.def.name]?.settings;
}
