/**
 * A value built by its first caller and shared after that. The built-in tools build their zod schemas
 * this way and expose them as `input` / `output` getters: registering the tools (which every serverless
 * cold start does) then builds none of them, and a tool's schemas are built when it is first called,
 * checked or described (docs/benchmarks.md, cold start).
 */
export function onFirstUse<T>(build: () => T): () => T {
  let value: { built: T } | undefined;
  return () => {
    value ??= { built: build() };
    return value.built;
  };
}
