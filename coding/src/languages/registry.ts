import path from "node:path";
import { go } from "./go.js";
import { java } from "./java.js";
import { javascript } from "./javascript.js";
import { python } from "./python.js";
import { rust } from "./rust.js";
import type { LanguageExtractor } from "./types.js";
import { tsx, typescript } from "./typescript.js";

/** Languages by file extension; add one by writing an extractor and registering it. */
export class LanguageRegistry {
  private readonly byExtension = new Map<string, LanguageExtractor>();
  private readonly byId = new Map<string, LanguageExtractor>();

  constructor(languages: readonly LanguageExtractor[] = []) {
    for (const language of languages) this.register(language);
  }

  register(language: LanguageExtractor): this {
    if (this.byId.has(language.id)) throw new Error(`language ${language.id} is already registered`);
    for (const extension of language.extensions) {
      const taken = this.byExtension.get(extension);
      if (taken) throw new Error(`extension ${extension} of ${language.id} is already taken by ${taken.id}`);
    }
    this.byId.set(language.id, language);
    for (const extension of language.extensions) this.byExtension.set(extension, language);
    return this;
  }

  forPath(file: string): LanguageExtractor | undefined {
    return this.byExtension.get(path.extname(file).toLowerCase());
  }

  get(id: string): LanguageExtractor | undefined {
    return this.byId.get(id);
  }

  list(): LanguageExtractor[] {
    return [...this.byId.values()];
  }
}

export const builtinLanguages: readonly LanguageExtractor[] = [
  typescript,
  tsx,
  javascript,
  python,
  go,
  rust,
  java,
];

export function defaultLanguages(): LanguageRegistry {
  return new LanguageRegistry(builtinLanguages);
}
