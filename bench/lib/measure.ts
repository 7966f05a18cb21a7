/** Small helpers shared by the benchmarks: timing, machine description, ratios. */
import os from "node:os";

export interface Measurement {
  label: string;
  iterations: number;
  totalMs: number;
}

/** Run `fn` for `warmup` rounds, then time `iterations` rounds. */
export async function measure(
  label: string,
  iterations: number,
  warmup: number,
  fn: (i: number) => Promise<void>,
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn(i);
  const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { label, iterations, totalMs };
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `${os.cpus().length} × ${cpu.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
