/**
 * One value per instance (the runtime, a module loaded on first use): built on the first call and
 * reused by the next ones (config is read once per instance). A build that failed is retried by the next
 * call.
 */
export function reusedPerInstance<T>(): (build: () => Promise<T>) => Promise<T> {
  let shared: Promise<T> | undefined;
  return (build) => {
    shared ??= build().catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
    return shared;
  };
}
