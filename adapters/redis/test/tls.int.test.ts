import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keyValueContract, lockContract } from "@aat/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisKeyValue, RedisLock } from "../src/index.js";
import { freePort, PrivateRedis } from "./private-redis.js";

// A TLS-only redis-server of our own with a password and a self-signed certificate for 127.0.0.1.
PrivateRedis.requireBinaries("redis-server", "openssl");
const servers = new PrivateRedis();
const password = "tls-test-password";
let port = 0;
let ca = "";

beforeAll(async () => {
  const certificate = join(servers.dir, "cert.pem");
  const key = join(servers.dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      key,
      "-out",
      certificate,
    ],
    { stdio: "ignore" },
  );
  ca = readFileSync(certificate, "utf8");
  port = await freePort();
  await servers.start(port, [
    "--port",
    "0",
    "--tls-port",
    String(port),
    "--tls-cert-file",
    certificate,
    "--tls-key-file",
    key,
    "--tls-ca-cert-file",
    certificate,
    "--tls-auth-clients",
    "no",
    "--requirepass",
    password,
  ]);
});

afterAll(async () => {
  await servers.stop();
});

const url = () => `rediss://:${password}@127.0.0.1:${port}`;

describe("TLS and password", () => {
  it("connects over rediss:// trusting the given CA, and works", async () => {
    const kv = await RedisKeyValue.connect({ url: url(), tls: { ca }, keyPrefix: "tls" });
    try {
      expect(kv.server).toBe(`rediss://:***@127.0.0.1:${port}`);
      expect(await kv.set("k", { over: "tls" })).toBe(1);
      expect(await kv.get("k")).toEqual({ value: { over: "tls" }, version: 1 });
      expect(await kv.delete("k")).toBe(true);
    } finally {
      await kv.close();
    }
  });

  it("refuses a certificate it cannot verify, naming the server but not the password", async () => {
    const attempt = RedisKeyValue.connect({ url: url(), keyPrefix: "tls", connectTimeoutMs: 5_000 });
    await expect(attempt).rejects.toThrow(
      `RedisKeyValue cannot reach Redis at rediss://:***@127.0.0.1:${port}:`,
    );
    await attempt.catch((error: Error) => {
      expect(error.message).toMatch(/self[- ]signed certificate/);
      expect(error.message).not.toContain(password);
    });
  });

  it("refuses a wrong password, naming the server but not the password", async () => {
    const attempt = RedisLock.connect({ url: `rediss://:wrong-one@127.0.0.1:${port}`, tls: { ca } });
    await expect(attempt).rejects.toThrow(
      /RedisLock cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/,
    );
    await attempt.catch((error: Error) => expect(error.message).not.toContain("wrong-one"));
  });

  it("takes the password as an option when the URL has none", async () => {
    const kv = await RedisKeyValue.connect({ url: `rediss://127.0.0.1:${port}`, password, tls: { ca } });
    try {
      await kv.ping();
    } finally {
      await kv.close();
    }
  });
});

keyValueContract("RedisKeyValue over TLS", async () => ({
  kv: await RedisKeyValue.connect({ url: url(), tls: { ca }, keyPrefix: "tls-contract" }),
}));

lockContract("RedisLock over TLS", async () => {
  const lock = await RedisLock.connect({ url: url(), tls: { ca }, keyPrefix: "tls-contract" });
  return { lock, cleanup: () => lock.close() };
});
