import { MemoryKeyValue } from "@aat/adapter-memory";
import { describe, expect, it } from "vitest";
import {
  ApiKeyStore,
  BOOTSTRAP_MARKER_KEY,
  type BootstrapOutcome,
  ensureBootstrapAdminKey,
  ManualClock,
} from "../../src/index.js";
import { authFixture, interleaving } from "./helpers.js";

describe("ensureBootstrapAdminKey", () => {
  it("generates one admin key on first start and returns it once", async () => {
    const { store } = authFixture();
    const first = await ensureBootstrapAdminKey(store);
    expect(first.status).toBe("generated");
    const key = first.status === "generated" ? first.key : "";
    expect(await store.verify(key)).toMatchObject({ roles: ["admin"], via: "apiKey" });
    const again = await ensureBootstrapAdminKey(store);
    expect(again).toEqual({ status: "existing", id: first.status === "generated" ? first.id : "" });
    expect(await store.list()).toHaveLength(1);
  });

  it("makes exactly one key when 10 replicas start at once", async () => {
    for (let round = 0; round < 10; round++) {
      const clock = new ManualClock();
      const store = new ApiKeyStore(interleaving(new MemoryKeyValue({ clock })), clock);
      const outcomes: BootstrapOutcome[] = await Promise.all(
        Array.from({ length: 10 }, () => ensureBootstrapAdminKey(store)),
      );
      const generated = outcomes.filter((outcome) => outcome.status === "generated");
      expect(generated).toHaveLength(1);
      const winner = generated[0];
      const keys = await store.list();
      expect(keys.map((key) => key.id)).toEqual([winner?.id]);
      for (const outcome of outcomes)
        expect(outcome.status === "generated" || outcome.id === winner?.id).toBe(true);
      expect(await store.verify(winner?.status === "generated" ? winner.key : "")).toMatchObject({
        roles: ["admin"],
      });
    }
  });

  it("leaves existing keys alone and generates nothing when people already made keys", async () => {
    const { store } = authFixture();
    await store.create({ name: "made by the CLI", roles: ["admin"], createdBy: "cli" });
    expect(await ensureBootstrapAdminKey(store)).toEqual({ status: "existing" });
    expect(await store.list()).toHaveLength(1);
  });

  it("imports a configured key hashed, once, and keeps a revocation across restarts", async () => {
    const { store, kv } = authFixture();
    const configuredKey = `aat_bootstrap_${"Q".repeat(40)}`;
    expect(await ensureBootstrapAdminKey(store, { configuredKey })).toEqual({
      status: "imported",
      id: "bootstrap",
    });
    expect(JSON.stringify((await kv.get("auth/keys/bootstrap"))?.value)).not.toContain("Q".repeat(40));
    expect(await store.verify(configuredKey)).toMatchObject({ id: "key:bootstrap", roles: ["admin"] });
    expect((await kv.get(BOOTSTRAP_MARKER_KEY))?.value).toEqual({ id: "bootstrap", source: "configured" });
    await store.revoke("bootstrap", "key:other-admin");
    expect(await ensureBootstrapAdminKey(store, { configuredKey })).toEqual({
      status: "existing",
      id: "bootstrap",
      revoked: true,
    });
    expect(await store.verify(configuredKey)).toMatchObject({ error: "revoked" });
    expect(await ensureBootstrapAdminKey(store)).toEqual({ status: "existing", id: "bootstrap" });
  });

  it("imports a configured key exactly once when 10 replicas start at once", async () => {
    const clock = new ManualClock();
    const store = new ApiKeyStore(interleaving(new MemoryKeyValue({ clock })), clock);
    const configuredKey = `aat_boot_${"k".repeat(40)}`;
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => ensureBootstrapAdminKey(store, { configuredKey })),
    );
    expect(outcomes.filter((outcome) => outcome.status === "imported")).toHaveLength(1);
    expect((await store.list()).map((key) => key.id)).toEqual(["boot"]);
  });

  it("refuses a configured key that is not in the aat key format, saying what the form is", async () => {
    const { store } = authFixture();
    await expect(ensureBootstrapAdminKey(store, { configuredKey: "correct-horse-battery" })).rejects.toThrow(
      /must have the form aat_<id>_<secret>: id of 1-64 letters, digits or '-', secret of at least 32/,
    );
  });
});
