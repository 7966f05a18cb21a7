/** Clean-up steps, run last-added first: a benchmark registers each resource right after opening it. */
export class Cleanups {
  private readonly steps: Array<() => Promise<unknown>> = [];
  private ran = false;

  add(step: () => Promise<unknown>): void {
    this.steps.unshift(step);
  }

  async run(): Promise<void> {
    if (this.ran) return;
    this.ran = true;
    for (const step of this.steps) {
      try {
        await step();
      } catch (error) {
        console.error(`clean-up step failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/**
 * Runs a benchmark that must stop by itself: after `ms` it is abandoned, its clean-up steps run (keys
 * and streams deleted) and the process exits with status 1. Either way the process exits when done.
 */
export function runBench(name: string, ms: number, main: (cleanups: Cleanups) => Promise<void>): void {
  const cleanups = new Cleanups();
  const deadline = setTimeout(() => {
    console.error(`${name}: not finished after ${ms / 1000} s; cleaning up and stopping`);
    void cleanups.run().finally(() => process.exit(1));
  }, ms);
  main(cleanups)
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(async () => {
      await cleanups.run();
      clearTimeout(deadline);
      process.exit();
    });
}
