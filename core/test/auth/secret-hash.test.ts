import type * as crypto from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const { timingSafeEqual } = await import("node:crypto");
const { parseApiKey } = await import("../../src/index.js");
const { authFixture } = await import("./helpers.js");

describe("API key secret comparison", () => {
  beforeEach(() => {
    vi.mocked(timingSafeEqual).mockClear();
  });

  it("compares digests with timingSafeEqual, for right and wrong secrets alike", async () => {
    const { store } = authFixture();
    const created = await store.create({ name: "ci", roles: ["viewer"], createdBy: "key:root" });
    expect(await store.verify(created.key)).toMatchObject({ via: "apiKey" });
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    const wrong = `aat_${created.id}_${"B".repeat(parseApiKey(created.key)?.secret.length ?? 43)}`;
    expect(await store.verify(wrong)).toMatchObject({ error: "unknown" });
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
    for (const [a, b] of vi.mocked(timingSafeEqual).mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });
});
