import { MemoryKeyValue } from "@aat/adapter-memory";
import { describe, expect, it } from "vitest";
import { hashPayload } from "../../src/dedupe/canonical-json.js";
import { type DedupeClaim, type DedupeHold, DedupeService } from "../../src/dedupe/service.js";
import { ManualClock } from "../../src/ports/clock.js";
import type { KeyValue } from "../../src/ports/kv.js";

const MINUTE = 60_000;
const options = { expiresAfterMs: 60 * MINUTE, inProgressExpiryMs: 5 * MINUTE };

function setup(extra: { maxInlineResultBytes?: number; prefix?: string; kvClock?: ManualClock } = {}) {
  const clock = new ManualClock();
  const kv = new MemoryKeyValue({ clock: extra.kvClock ?? clock });
  const dedupe = new DedupeService({
    kv,
    clock,
    ...(extra.prefix !== undefined ? { prefix: extra.prefix } : {}),
    ...(extra.maxInlineResultBytes !== undefined ? { maxInlineResultBytes: extra.maxInlineResultBytes } : {}),
  });
  return { clock, kv, dedupe };
}

function expectHold(claim: DedupeClaim): DedupeHold {
  expect(claim.status).toBe("claimed");
  if (claim.status !== "claimed") throw new Error("unreachable");
  return claim;
}

/** Delays every call by a random 0–3 ms so concurrent callers interleave like remote clients. */
function jittery(kv: KeyValue): KeyValue {
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));
  return new Proxy(kv, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver);
      if (typeof member !== "function") return member;
      return async (...args: unknown[]) => {
        await pause();
        return member.apply(target, args);
      };
    },
  });
}

describe("DedupeService.claim", () => {
  it("claims a new key, and reports in_progress to others until the in-progress window ends", async () => {
    const { clock, dedupe } = setup();
    const hold = expectHold(await dedupe.claim("run-1/fetch/1", options));
    expect(hold).toMatchObject({ key: "run-1/fetch/1", version: 1, expiresAfterMs: 60 * MINUTE });

    clock.advance(MINUTE);
    expect(await dedupe.claim("run-1/fetch/1", options)).toEqual({
      status: "in_progress",
      expiresAt: Date.UTC(2026, 0, 1) + 5 * MINUTE,
    });
    expectHold(await dedupe.claim("run-1/fetch/2", options));
  });

  it("replays the stored result to duplicates after completion, as a copy", async () => {
    const { dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    const result = { verdict: "malicious", scores: [0.9, 0.1] };
    expect(await dedupe.complete("k", result, hold)).toBe(true);
    result.verdict = "changed after completion";

    const first = await dedupe.claim("k", options);
    expect(first).toEqual({ status: "duplicate", result: { verdict: "malicious", scores: [0.9, 0.1] } });
    if (first.status === "duplicate") (first.result as { verdict: string }).verdict = "mutated";
    expect(await dedupe.claim("k", options)).toEqual({
      status: "duplicate",
      result: { verdict: "malicious", scores: [0.9, 0.1] },
    });
  });

  it("replays an undefined result as undefined", async () => {
    const { dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    expect(await dedupe.complete("k", undefined, hold)).toBe(true);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: undefined });
  });

  it("forgets a completed result after expiresAfterMs, so the key can be claimed again", async () => {
    const { clock, dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    clock.advance(MINUTE);
    await dedupe.complete("k", "done", hold);

    clock.advance(60 * MINUTE - 1);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "done" });
    clock.advance(1);
    expectHold(await dedupe.claim("k", options));
  });

  it("treats a completed record past its expiresAt as expired even when the store still shows it", async () => {
    // The store's clock lags (as a backend with lazy TTL would): the service must still honour expiry.
    const { clock, dedupe, kv } = setup({ kvClock: new ManualClock() });
    const hold = expectHold(await dedupe.claim("k", options));
    await dedupe.complete("k", "old", hold);
    clock.advance(61 * MINUTE);
    expect(await kv.get(dedupe.recordKey("k"))).toBeDefined();

    const again = expectHold(await dedupe.claim("k", options));
    expect(again.version).toBe(3);
    expect(await dedupe.claim("k", options)).toMatchObject({ status: "in_progress" });
  });

  it("hands a claim whose holder died to the next caller once the in-progress window has passed", async () => {
    const { clock, dedupe } = setup();
    const crashed = expectHold(await dedupe.claim("k", options));
    clock.advance(5 * MINUTE - 1);
    expect((await dedupe.claim("k", options)).status).toBe("in_progress");
    clock.advance(1);

    const successor = expectHold(await dedupe.claim("k", options));
    expect(successor.version).toBe(crashed.version + 1);
    expect(await dedupe.claim("k", options)).toEqual({
      status: "in_progress",
      expiresAt: clock.now() + 5 * MINUTE,
    });
    expect(await dedupe.complete("k", "from successor", successor)).toBe(true);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "from successor" });
  });

  it("lets exactly one of 50 concurrent callers claim a new key", async () => {
    const { dedupe: plain, kv, clock } = setup();
    const dedupe = new DedupeService({ kv: jittery(kv), clock });
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => dedupe.claim("hot", options)));
    expect(outcomes.filter((outcome) => outcome.status === "claimed")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === "in_progress")).toHaveLength(49);
    expect((await plain.claim("hot", options)).status).toBe("in_progress");
  });

  it("lets exactly one of 50 concurrent callers take over a stale claim", async () => {
    const { kv, clock } = setup();
    const dedupe = new DedupeService({ kv: jittery(kv), clock });
    const crashed = expectHold(await dedupe.claim("stale", options));
    clock.advance(6 * MINUTE);

    const outcomes = await Promise.all(Array.from({ length: 50 }, () => dedupe.claim("stale", options)));
    const winners = outcomes.filter((outcome) => outcome.status === "claimed");
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ version: crashed.version + 1 });
    expect(outcomes.filter((outcome) => outcome.status === "in_progress")).toHaveLength(49);
  });

  it("lets exactly one of 50 concurrent callers reclaim an expired completed key", async () => {
    const { kv, clock } = setup({ kvClock: new ManualClock() });
    const dedupe = new DedupeService({ kv: jittery(kv), clock });
    await dedupe.complete("done", 1, expectHold(await dedupe.claim("done", options)));
    clock.advance(61 * MINUTE);

    const outcomes = await Promise.all(Array.from({ length: 50 }, () => dedupe.claim("done", options)));
    expect(outcomes.filter((outcome) => outcome.status === "claimed")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.status === "in_progress")).toHaveLength(49);
  });
});

describe("DedupeService.complete inside the claim's in-progress window", () => {
  /** Counts the KeyValue calls made through it, by method name. */
  function counted(kv: KeyValue): { kv: KeyValue; calls: string[] } {
    const calls: string[] = [];
    const proxy = new Proxy(kv, {
      get(target, property, receiver) {
        const member = Reflect.get(target, property, receiver);
        if (typeof member !== "function") return member;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return member.apply(target, args);
        };
      },
    });
    return { kv: proxy, calls };
  }

  it("writes the result with one compare-and-set, without reading the record first", async () => {
    const { kv, clock } = setup();
    const { kv: watched, calls } = counted(kv);
    const dedupe = new DedupeService({ kv: watched, clock });
    const hold = expectHold(await dedupe.claim("k", options));
    clock.advance(MINUTE);
    calls.length = 0;
    expect(await dedupe.complete("k", "done", hold)).toBe(true);
    expect(calls).toEqual(["compareAndSet"]);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "done" });
  });

  it("reads first once the window (less its margin) has passed, and after a release", async () => {
    const { kv, clock } = setup();
    const { kv: watched, calls } = counted(kv);
    const dedupe = new DedupeService({ kv: watched, clock });
    const late = expectHold(await dedupe.claim("late", options));
    clock.advance(5 * MINUTE - 1_000);
    calls.length = 0;
    expect(await dedupe.complete("late", "done", late)).toBe(true);
    expect(calls).toEqual(["get", "compareAndSet"]);

    const released = expectHold(await dedupe.claim("gone", options));
    expect(await dedupe.release("gone", released)).toBe(true);
    const other = expectHold(await dedupe.claim("gone", options));
    expect(other.version).toBe(released.version);
    expect(await dedupe.complete("gone", "not mine", released)).toBe(false);
    expect(await dedupe.complete("gone", "mine", other)).toBe(true);
  });

  it("falls back to reading when the record moved anyway, and still stores over a vanished claim", async () => {
    const { kv, clock, dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    // Someone deletes the claim behind the service's back (as an expiry on a skewed clock would).
    await kv.delete(dedupe.recordKey("k"));
    expect(await dedupe.complete("k", "late but valid", hold)).toBe(true);
    clock.advance(1);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "late but valid" });
  });
});

describe("DedupeService.release", () => {
  it("deletes the holder's claim so a retry can claim at once", async () => {
    const { dedupe, kv } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    expect(await dedupe.release("k", hold)).toBe(true);
    expect(await kv.get(dedupe.recordKey("k"))).toBeUndefined();
    expectHold(await dedupe.claim("k", options));
    expect(await dedupe.release("k", hold)).toBe(false);
  });

  it("refuses a stale holder whose claim was taken over, leaving the new holder's claim in place", async () => {
    const { clock, dedupe } = setup();
    const stale = expectHold(await dedupe.claim("k", options));
    clock.advance(5 * MINUTE);
    const current = expectHold(await dedupe.claim("k", options));

    expect(await dedupe.release("k", stale)).toBe(false);
    expect((await dedupe.claim("k", options)).status).toBe("in_progress");
    expect(await dedupe.complete("k", "late result from the stale holder", stale)).toBe(false);
    expect(await dedupe.complete("k", "result", current)).toBe(true);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "result" });
  });

  it("refuses a holder whose released claim was re-created at the same version by someone else", async () => {
    const { dedupe } = setup();
    const first = expectHold(await dedupe.claim("k", options));
    expect(await dedupe.release("k", first)).toBe(true);
    const second = expectHold(await dedupe.claim("k", options));
    expect(second.version).toBe(first.version);
    expect(await dedupe.release("k", first)).toBe(false);
    expect(await dedupe.complete("k", "not mine to store", first)).toBe(false);
    expect((await dedupe.claim("k", options)).status).toBe("in_progress");
  });

  it("refuses a holder whose claim expired and was claimed afresh at the same version", async () => {
    const { clock, dedupe } = setup();
    const short = { expiresAfterMs: MINUTE, inProgressExpiryMs: MINUTE };
    const old = expectHold(await dedupe.claim("k", short));
    clock.advance(MINUTE);
    const fresh = expectHold(await dedupe.claim("k", short));
    expect(fresh.version).toBe(old.version);
    expect(await dedupe.release("k", old)).toBe(false);
    expect(await dedupe.complete("k", "stale", old)).toBe(false);
    expect(await dedupe.complete("k", "fresh", fresh)).toBe(true);
  });

  it("refuses to release a claim in the last moments of its record's life", async () => {
    const { clock, dedupe } = setup();
    const short = { expiresAfterMs: MINUTE, inProgressExpiryMs: MINUTE };
    const hold = expectHold(await dedupe.claim("k", short));
    clock.advance(MINUTE - 1000);
    expect(await dedupe.release("k", hold)).toBe(false);
  });

  it("does not delete a completed result", async () => {
    const { dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    await dedupe.complete("k", "kept", hold);
    expect(await dedupe.release("k", hold)).toBe(false);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "kept" });
  });
});

describe("DedupeService.renew", () => {
  const short = { expiresAfterMs: 60 * MINUTE, inProgressExpiryMs: MINUTE };

  it("keeps a live holder's claim past its first window, and the holder can still complete", async () => {
    const { clock, dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", short));
    for (let beat = 0; beat < 5; beat++) {
      clock.advance(MINUTE / 2);
      expect(await dedupe.renew("k", hold, { inProgressExpiryMs: MINUTE })).toBe(true);
    }
    clock.advance(MINUTE - 1);
    expect(await dedupe.claim("k", short)).toEqual({ status: "in_progress", expiresAt: clock.now() + 1 });
    expect(await dedupe.complete("k", "done", hold)).toBe(true);
    expect(await dedupe.claim("k", short)).toEqual({ status: "duplicate", result: "done" });
  });

  it("lets the next caller take over one window after the holder stopped renewing", async () => {
    const { clock, dedupe } = setup();
    const crashed = expectHold(await dedupe.claim("k", short));
    clock.advance(MINUTE / 2);
    await dedupe.renew("k", crashed, { inProgressExpiryMs: MINUTE });
    clock.advance(MINUTE);
    const successor = expectHold(await dedupe.claim("k", short));
    expect(await dedupe.renew("k", crashed, { inProgressExpiryMs: MINUTE })).toBe(false);
    expect(await dedupe.complete("k", "late", crashed)).toBe(false);
    expect(await dedupe.renew("k", successor, { inProgressExpiryMs: MINUTE })).toBe(true);
  });

  it("never shortens a longer window, and refuses after release or completion", async () => {
    const { clock, dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    expect(await dedupe.renew("k", hold, { inProgressExpiryMs: MINUTE })).toBe(true);
    clock.advance(2 * MINUTE);
    expect((await dedupe.claim("k", options)).status).toBe("in_progress");
    expect(await dedupe.complete("k", 1, hold)).toBe(true);
    expect(await dedupe.renew("k", hold, { inProgressExpiryMs: MINUTE })).toBe(false);

    const other = expectHold(await dedupe.claim("j", options));
    expect(await dedupe.release("j", other)).toBe(true);
    expect(await dedupe.renew("j", other, { inProgressExpiryMs: MINUTE })).toBe(false);
    await expect(dedupe.renew("j", other, { inProgressExpiryMs: 0 })).rejects.toThrow(/inProgressExpiryMs/);
  });
});

describe("DedupeService.complete", () => {
  it("keeps a result that arrives after its own claim expired, if nobody claimed meanwhile", async () => {
    const { clock, dedupe, kv } = setup();
    const hold = expectHold(await dedupe.claim("k", { expiresAfterMs: MINUTE, inProgressExpiryMs: MINUTE }));
    clock.advance(2 * MINUTE);
    expect(await kv.get(dedupe.recordKey("k"))).toBeUndefined();
    expect(await dedupe.complete("k", "late but unique", hold)).toBe(true);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "late but unique" });
  });

  it("refuses a second completion by the same hold", async () => {
    const { dedupe } = setup();
    const hold = expectHold(await dedupe.claim("k", options));
    expect(await dedupe.complete("k", "first", hold)).toBe(true);
    expect(await dedupe.complete("k", "second", hold)).toBe(false);
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "first" });
  });

  it("stores results above the inline cap under a separate key and replays them transparently", async () => {
    const { dedupe, kv } = setup({ maxInlineResultBytes: 1024 });
    const large = { rows: Array.from({ length: 200 }, (_, index) => ({ index, text: "é".repeat(10) })) };
    const small = { rows: [{ index: 0 }] };
    const hold = expectHold(await dedupe.claim("large", options));
    await dedupe.complete("large", large, hold);
    await dedupe.complete("small", small, expectHold(await dedupe.claim("small", options)));

    const record = (await kv.get<Record<string, unknown>>(dedupe.recordKey("large")))!.value;
    expect(record.result).toBeUndefined();
    expect(record.resultRef).toBe(dedupe.resultKey("large", hold.claimId));
    expect((await kv.get(dedupe.resultKey("large", hold.claimId)))?.value).toEqual(large);
    expect((await kv.get<Record<string, unknown>>(dedupe.recordKey("small")))!.value).toMatchObject({
      result: small,
    });
    expect(
      (await kv.get<Record<string, unknown>>(dedupe.recordKey("small")))!.value.resultRef,
    ).toBeUndefined();

    expect(await dedupe.claim("large", options)).toEqual({ status: "duplicate", result: large });
    expect(await dedupe.claim("small", options)).toEqual({ status: "duplicate", result: small });
  });

  it("measures the cap in UTF-8 bytes of the JSON", async () => {
    const { dedupe, kv } = setup({ maxInlineResultBytes: 12 });
    // "ééééé" is 5 characters but 10 bytes, 12 with its quotes: exactly at the cap, so inline.
    await dedupe.complete("at-cap", "ééééé", expectHold(await dedupe.claim("at-cap", options)));
    await dedupe.complete("over-cap", "éééééé", expectHold(await dedupe.claim("over-cap", options)));
    expect(
      (await kv.get<Record<string, unknown>>(dedupe.recordKey("at-cap")))!.value.resultRef,
    ).toBeUndefined();
    expect(
      (await kv.get<Record<string, unknown>>(dedupe.recordKey("over-cap")))!.value.resultRef,
    ).toBeDefined();
  });

  it("treats a completed record whose referenced result vanished as expired", async () => {
    const { dedupe, kv } = setup({ maxInlineResultBytes: 10 });
    const hold = expectHold(await dedupe.claim("k", options));
    await dedupe.complete("k", "a result longer than ten bytes", hold);
    await kv.delete(dedupe.resultKey("k", hold.claimId));
    const again = expectHold(await dedupe.claim("k", options));
    expect(again.version).toBe(hold.version + 2);
  });

  it("removes the separately stored result when the hold turns out to be lost", async () => {
    const { clock, dedupe, kv } = setup({ maxInlineResultBytes: 10 });
    const stale = expectHold(await dedupe.claim("k", options));
    clock.advance(5 * MINUTE);
    expectHold(await dedupe.claim("k", options));
    expect(await dedupe.complete("k", "a result longer than ten bytes", stale)).toBe(false);
    expect(await kv.get(dedupe.resultKey("k", stale.claimId))).toBeUndefined();
  });
});

describe("payload fingerprints", () => {
  it("refuses a duplicate whose payload differs, while in progress and after completion", async () => {
    const { dedupe } = setup();
    const original = hashPayload({ ip: "10.0.0.1", mode: "strict" });
    const reordered = hashPayload({ mode: "strict", ip: "10.0.0.1" });
    const changed = hashPayload({ ip: "10.0.0.2", mode: "strict" });
    const hold = expectHold(await dedupe.claim("k", { ...options, payloadHash: original }));
    expect(hold.payloadHash).toBe(original);

    expect(await dedupe.claim("k", { ...options, payloadHash: changed })).toEqual({
      status: "payload_mismatch",
    });
    expect((await dedupe.claim("k", { ...options, payloadHash: reordered })).status).toBe("in_progress");

    await dedupe.complete("k", "ok", hold);
    expect(await dedupe.claim("k", { ...options, payloadHash: changed })).toEqual({
      status: "payload_mismatch",
    });
    expect(await dedupe.claim("k", { ...options, payloadHash: reordered })).toEqual({
      status: "duplicate",
      result: "ok",
    });
    // A caller that does not fingerprint its payload is not compared.
    expect(await dedupe.claim("k", options)).toEqual({ status: "duplicate", result: "ok" });
  });

  it("does not let a stale claim's payload block a takeover", async () => {
    const { clock, dedupe } = setup();
    expectHold(await dedupe.claim("k", { ...options, payloadHash: hashPayload(1) }));
    clock.advance(5 * MINUTE);
    const successor = expectHold(await dedupe.claim("k", { ...options, payloadHash: hashPayload(2) }));
    expect(successor.payloadHash).toBe(hashPayload(2));
    expect(await dedupe.claim("k", { ...options, payloadHash: hashPayload(1) })).toEqual({
      status: "payload_mismatch",
    });
  });
});

describe("keys and validation", () => {
  it("writes only under its prefix", async () => {
    const { dedupe, kv } = setup({ prefix: "tenant-a/idem/", maxInlineResultBytes: 4 });
    const hold = expectHold(await dedupe.claim("run/step/1", options));
    await dedupe.complete("run/step/1", "longer than four bytes", hold);
    const page = await kv.list("");
    expect(page.entries.map((entry) => entry.key)).toEqual([
      "tenant-a/idem/claim/run/step/1",
      `tenant-a/idem/result/run/step/1/${hold.claimId}`,
    ]);
    expect(dedupe.recordKey("x")).toBe("tenant-a/idem/claim/x");
    expect(setup().dedupe.recordKey("x")).toBe("dedupe/claim/x");
  });

  it("rejects bad input with errors that say what to pass", async () => {
    const { dedupe, kv } = setup();
    await expect(dedupe.claim("", options)).rejects.toThrow(/key must be a non-empty string/);
    await expect(dedupe.claim("k", { expiresAfterMs: 0, inProgressExpiryMs: 1 })).rejects.toThrow(
      /claim\("k"\): options are invalid[\s\S]*expiresAfterMs/,
    );
    const hold = expectHold(await dedupe.claim("k", options));
    await expect(dedupe.complete("other", 1, hold)).rejects.toThrow(/the hold belongs to key "k"/);
    await expect(dedupe.release("k", { status: "claimed" } as DedupeHold)).rejects.toThrow(
      /pass the \{ status: "claimed" \} object that claim\(\) returned/,
    );
    await kv.set(dedupe.recordKey("foreign"), { not: "a dedupe record" });
    await expect(dedupe.claim("foreign", options)).rejects.toThrow(/does not hold a dedupe record/);
    expect(() => new DedupeService({ kv: {} as KeyValue })).toThrow(/kv must implement the KeyValue port/);
  });
});
