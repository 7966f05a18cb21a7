import * as z from "zod/mini";

/** Time enters the core only through this port, so the engine can be tested with a manual clock. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
}

/** Validates a `clock` option: every adapter accepts one, and says the same when it is wrong. */
export const clockSchema = z.custom<Clock>(
  (value) => typeof (value as Clock | undefined)?.now === "function",
  {
    message: "clock must be an object with a now(): number method",
  },
);
