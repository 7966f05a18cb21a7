import { describe, expect, it } from "vitest";
import {
  API_KEY_RECORD_PREFIX,
  ApiKeyInputError,
  hashSecret,
  isApiKeyFailure,
  LAST_USED_RESOLUTION_MS,
  parseApiKey,
} from "../../src/index.js";
import { authFixture } from "./helpers.js";

describe("ApiKeyStore", () => {
  it("creates a key of the form aat_<id>_<secret> with 256 bits of randomness", async () => {
    const { store } = authFixture();
    const created = await store.create({ name: "ci", roles: ["developer"], createdBy: "key:root" });
    expect(created.key).toMatch(/^aat_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const parts = parseApiKey(created.key);
    expect(parts?.id).toBe(created.id);
    expect(Buffer.from(parts?.secret ?? "", "base64url")).toHaveLength(32);
    expect(created.record).toEqual({
      id: created.id,
      name: "ci",
      roles: ["developer"],
      status: "active",
      createdAt: "2026-01-01T00:00:00.000Z",
      createdBy: "key:root",
    });
  });

  it("stores only the SHA-256 of the secret, never the key or the secret", async () => {
    const { store, kv } = authFixture();
    const created = await store.create({ name: "ci", roles: ["viewer"], createdBy: "key:root" });
    const secret = parseApiKey(created.key)?.secret ?? "";
    const entry = await kv.get(`${API_KEY_RECORD_PREFIX}${created.id}`);
    const stored = JSON.stringify(entry?.value);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(created.key);
    expect(entry?.value).toMatchObject({ secretSha256: hashSecret(secret) });
  });

  it("goes through create → verify → revoke → verify fails as revoked", async () => {
    const { store } = authFixture();
    const created = await store.create({
      name: "ops",
      roles: ["responder", "analyst"],
      createdBy: "key:root",
    });
    expect(await store.verify(created.key)).toEqual({
      id: `key:${created.id}`,
      name: "ops",
      roles: ["responder", "analyst"],
      via: "apiKey",
    });
    const revoked = await store.revoke(created.id, "key:root");
    expect(revoked).toMatchObject({ status: "revoked", revokedBy: "key:root" });
    expect(await store.verify(created.key)).toMatchObject({ error: "revoked" });
  });

  it("keeps the first revocation when revoked twice and answers undefined for unknown ids", async () => {
    const { store, clock } = authFixture();
    const created = await store.create({ name: "ops", roles: ["viewer"], createdBy: "key:root" });
    const first = await store.revoke(created.id, "key:a");
    clock.advance(5_000);
    const second = await store.revoke(created.id, "key:b");
    expect(second).toEqual(first);
    expect(await store.revoke("0000000000000000", "key:a")).toBeUndefined();
    expect(await store.revoke("../escape", "key:a")).toBeUndefined();
  });

  it("gives distinct reasons: malformed, unknown, revoked, expired", async () => {
    const { store, clock } = authFixture();
    const expiring = await store.create({
      name: "short",
      roles: ["viewer"],
      createdBy: "key:root",
      expiresAt: "2026-01-01T01:00:00Z",
    });
    const reasonOf = async (key: string) => {
      const result = await store.verify(key);
      return isApiKeyFailure(result) ? result.error : "ok";
    };
    expect(await reasonOf(expiring.key)).toBe("ok");
    expect(await reasonOf("aat_nounderscoreatall")).toBe("malformed");
    expect(await reasonOf("not-an-aat-key")).toBe("malformed");
    expect(await reasonOf(`aat_${expiring.id}_short`)).toBe("malformed");
    expect(await reasonOf(`aat_ffffffffffffffff_${"x".repeat(43)}`)).toBe("unknown");
    clock.advance(3_600_000);
    expect(await reasonOf(expiring.key)).toBe("expired");
    const detail = await store.verify(expiring.key);
    expect(detail).toEqual({
      error: "expired",
      detail: "the API key has expired: ask an admin for a new one",
    });
  });

  it("reports a wrong secret for a real id as unknown, even for a revoked key", async () => {
    const { store } = authFixture();
    const created = await store.create({ name: "ops", roles: ["viewer"], createdBy: "key:root" });
    const forged = `aat_${created.id}_${"A".repeat(43)}`;
    expect(await store.verify(forged)).toMatchObject({ error: "unknown" });
    await store.revoke(created.id, "key:root");
    expect(await store.verify(forged)).toMatchObject({ error: "unknown" });
  });

  it("updates lastUsedAt at most once a minute", async () => {
    const { store, clock, kv } = authFixture();
    const created = await store.create({ name: "ops", roles: ["viewer"], createdBy: "key:root" });
    const recordKey = `${API_KEY_RECORD_PREFIX}${created.id}`;
    await store.verify(created.key);
    const afterFirst = await kv.get(recordKey);
    expect((await store.get(created.id))?.lastUsedAt).toBe("2026-01-01T00:00:00.000Z");
    clock.advance(LAST_USED_RESOLUTION_MS - 1);
    await store.verify(created.key);
    expect((await kv.get(recordKey))?.version).toBe(afterFirst?.version);
    clock.advance(1);
    await store.verify(created.key);
    expect((await store.get(created.id))?.lastUsedAt).toBe("2026-01-01T00:01:00.000Z");
  });

  it("lists keys oldest first without secrets or hashes", async () => {
    const { store, clock } = authFixture();
    const a = await store.create({ name: "a", roles: ["viewer"], createdBy: "key:root" });
    clock.advance(1_000);
    const b = await store.create({ name: "b", roles: ["admin"], createdBy: "key:root" });
    await store.revoke(a.id, "key:root");
    const listed = await store.list();
    expect(listed.map((key) => [key.name, key.status])).toEqual([
      ["a", "revoked"],
      ["b", "active"],
    ]);
    const text = JSON.stringify(listed);
    expect(text).not.toContain("secretSha256");
    for (const created of [a, b]) {
      const secret = parseApiKey(created.key)?.secret ?? "";
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashSecret(secret));
    }
  });

  it("refuses bad input with the field and the fix", async () => {
    const { store } = authFixture();
    await expect(store.create({ name: "", roles: ["viewer"], createdBy: "x" })).rejects.toThrow(/name/);
    await expect(store.create({ name: "a", roles: [], createdBy: "x" })).rejects.toThrow(/at least one role/);
    // @ts-expect-error: an unknown role is exactly what is being tested
    await expect(store.create({ name: "a", roles: ["root"], createdBy: "x" })).rejects.toThrow(
      ApiKeyInputError,
    );
    await expect(
      store.create({ name: "a", roles: ["viewer"], createdBy: "x", expiresAt: "2025-12-31T00:00:00Z" }),
    ).rejects.toMatchObject({ path: "expiresAt", message: expect.stringMatching(/not in the future/) });
  });

  it("imports a chosen key once and refuses a different secret under the same id", async () => {
    const { store } = authFixture();
    const key = `aat_boot-1_${"s".repeat(40)}`;
    const first = await store.importKey({ key, name: "boot", roles: ["admin"], createdBy: "system" });
    expect(first.status).toBe("imported");
    expect((await store.importKey({ key, name: "boot", roles: ["admin"], createdBy: "system" })).status).toBe(
      "existing",
    );
    expect(await store.verify(key)).toMatchObject({ id: "key:boot-1", roles: ["admin"] });
    await expect(
      store.importKey({
        key: `aat_boot-1_${"t".repeat(40)}`,
        name: "boot",
        roles: ["admin"],
        createdBy: "system",
      }),
    ).rejects.toThrow(/a different key with id "boot-1" already exists/);
    await expect(
      store.importKey({ key: "hunter2hunter2hunter2", name: "boot", roles: ["admin"], createdBy: "system" }),
    ).rejects.toThrow(/must have the form aat_<id>_<secret>/);
  });
});
