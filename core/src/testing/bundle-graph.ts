/** The part of an esbuild metafile's `outputs` these helpers read (structural: core does not import esbuild). */
export type BundleOutputs = Record<
  string,
  {
    imports: ReadonlyArray<{ path: string; kind: string; external?: boolean }>;
    inputs: Readonly<Record<string, { bytesInOutput: number }>>;
  }
>;

/** Output files reached from `roots` through static imports (what loading the roots parses). */
export function staticallyReached(outputs: BundleOutputs, roots: string[]): Set<string> {
  const reached = new Set(roots);
  const queue = [...roots];
  while (queue.length > 0) {
    for (const imported of outputs[queue.pop()!]?.imports ?? []) {
      if (imported.kind !== "import-statement" || imported.external || reached.has(imported.path)) continue;
      reached.add(imported.path);
      queue.push(imported.path);
    }
  }
  return reached;
}

/** The source files that put code into these output files. */
export function inputsOf(outputs: BundleOutputs, paths: Iterable<string>): string[] {
  return [...paths].flatMap((path) =>
    Object.entries(outputs[path]?.inputs ?? {})
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input),
  );
}

/**
 * The input files a bundle's cold start loads: those with bytes in its start files (absolute paths, as
 * functions/serverless's BundleResult lists them, matched to the metafile's relative output keys).
 */
export function startInputs(bundle: {
  metafile: { outputs: BundleOutputs };
  startFiles: string[];
}): string[] {
  const outputs = bundle.metafile.outputs;
  return inputsOf(
    outputs,
    bundle.startFiles.map((file) => outputKeyOf(file, outputs)),
  );
}

/** The metafile's key (relative to the working directory) of an absolute output path. */
export function outputKeyOf(file: string, outputs: Record<string, unknown>): string {
  const key = Object.keys(outputs).find((path) => file.endsWith(path.replace(/^(\.\.\/)+/, "")));
  if (!key) throw new Error(`${file} is not among the bundle's outputs`);
  return key;
}

/**
 * What of zod a bundle's cold start loads: classic zod's files and locales other than English (both
 * expected empty: they load on first use), and whether zod/mini and the English locale are there.
 */
export function zodAtStart(bundle: Parameters<typeof startInputs>[0]) {
  const inputs = startInputs(bundle);
  return {
    classic: inputs.filter((input) => input.includes("node_modules/zod/v4/classic/")),
    otherLocales: inputs.filter((input) => /zod\/v4\/locales\/(?!en\.js)/.test(input)),
    mini: inputs.some((input) => input.includes("node_modules/zod/v4/mini/")),
    english: inputs.some((input) => input.endsWith("zod/v4/locales/en.js")),
  };
}
