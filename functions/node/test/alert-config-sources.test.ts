import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { aatConfigSchema, loadConfig } from "@aat/core";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturingLogger, REPO_ROOT, tempDir } from "./support.js";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read loosely in this test.
type J = any;

const PLANS = join(REPO_ROOT, "functions/node/test/fixtures/alert-plans");
const admin = { authorization: "Bearer aat_alertcfgsrc_0123456789abcdef0123456789abcdef" };
const CURRENT = "cfg-current-secret-0123456789";
const PREVIOUS = "cfg-previous-secret-0123456789";
let runtime: NodeRuntime;
let dataDir: string;

function config(dir: string, sources: unknown[]) {
  return aatConfigSchema.parse({
    dataDir: dir,
    server: { port: 0 },
    plans: { directories: [PLANS], watch: false },
    auth: { mode: "apiKey", bootstrapAdminKey: admin.authorization.slice(7) },
    alerts: { sources },
  });
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: J }> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { ...admin, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : text };
}

beforeAll(async () => {
  dataDir = await tempDir("alert-cfg-sources");
  runtime = await startNodeRuntime({
    config: config(dataDir, [
      {
        id: "falco-cfg",
        format: "falco",
        auth: { mode: "bearer" },
        secret: "falco_hook",
        previousSecret: "falco_hook_old",
        description: "falcosidekick on the build cluster",
      },
    ]),
    env: { AAT_SECRET_FALCO_HOOK: CURRENT, AAT_SECRET_FALCO_HOOK_OLD: PREVIOUS },
    logger: capturingLogger().logger,
    print: () => {},
  });
});

afterAll(async () => {
  await runtime?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("webhook sources from alerts.sources", () => {
  it("are listed next to API sources, accept deliveries with either secret, and are read-only (409 naming the config)", async () => {
    const created = await api("POST", "/v1/alert-sources", {
      id: "kv-src",
      format: "generic",
      auth: { mode: "bearer" },
    });
    expect(created.status).toBe(201);
    const listed = await api("GET", "/v1/alert-sources");
    expect(listed.json.items.map((s: J) => [s.id, s.origin])).toEqual([
      ["falco-cfg", "config"],
      ["kv-src", "api"],
    ]);
    expect(JSON.stringify(listed.json)).not.toContain(CURRENT);
    const one = await api("GET", "/v1/alert-sources/falco-cfg");
    expect(one.json.secrets.map((s: J) => s.id)).toEqual(["config:falco_hook", "config:falco_hook_old"]);

    const body = readFileSync(join(REPO_ROOT, "examples/alerts/falco.json"), "utf8");
    for (const secret of [CURRENT, PREVIOUS]) {
      const delivered = await fetch(`${runtime.url}/v1/webhooks/falco-cfg`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
        body,
      });
      expect(delivered.status, await delivered.clone().text()).toBe(202);
    }
    const wrong = await fetch(`${runtime.url}/v1/webhooks/falco-cfg`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer not-the-secret-at-all" },
      body,
    });
    expect(wrong.status).toBe(401);
    const stored = await api("GET", "/v1/alerts?source=falco-cfg");
    expect(stored.json.items).toHaveLength(1);
    expect(stored.json.items[0].count).toBe(2);

    for (const action of ["rotate", "disable", "enable"]) {
      const refused = await api("POST", `/v1/alert-sources/falco-cfg/${action}`, {});
      expect(refused.status, action).toBe(409);
      expect(refused.json.kind ?? refused.json.type).toContain("config-source-read-only");
      expect(refused.json.detail).toContain("alerts.sources");
      expect(refused.json.detail).toContain("edit its entry in the config file");
    }
    const clash = await api("POST", "/v1/alert-sources", {
      id: "falco-cfg",
      format: "falco",
      auth: { mode: "bearer" },
    });
    expect(clash.status).toBe(409);
    // The API source is still managed through the API.
    expect((await api("POST", "/v1/alert-sources/kv-src/disable", {})).status).toBe(200);
  });

  it("a secret that is not set stops the start, naming the setting and the variable", async () => {
    const dir = await tempDir("alert-cfg-missing");
    try {
      await expect(
        startNodeRuntime({
          config: config(dir, [
            { id: "wz", format: "wazuh", auth: { mode: "bearer" }, secret: "wazuh_hook" },
          ]),
          env: {},
          logger: capturingLogger().logger,
          print: () => {},
        }),
      ).rejects.toThrow(
        /alerts\.sources\[0\]\.secret \(source "wz"\): the secret "wazuh_hook" is not set; set environment variable AAT_SECRET_WAZUH_HOOK/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the config schema refuses a bad source with the field named", () => {
    const bad = aatConfigSchema.safeParse({
      alerts: {
        sources: [
          { id: "a", format: "nope", auth: { mode: "bearer" }, secret: "x_y" },
          { id: "b", format: "splunk", auth: { mode: "basic" }, secret: "Literal Secret!" },
        ],
      },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(
      expect.arrayContaining([
        "alerts.sources.0.format",
        "alerts.sources.1.secret",
        "alerts.sources.1.auth.username",
      ]),
    );
  });

  it("AAT_ALERTS_SOURCES_JSON sets them from the environment (a JSON array); a non-array is refused naming the variable", () => {
    const { config } = loadConfig({
      env: {
        AAT_ALERTS_SOURCES_JSON: JSON.stringify([
          { id: "gd", format: "guardduty", auth: { mode: "api_key", header: "X-API-Key" }, secret: "gd_key" },
        ]),
      },
    });
    expect(config.alerts.sources).toEqual([
      {
        id: "gd",
        format: "guardduty",
        auth: { mode: "api_key", header: "X-API-Key" },
        secret: "gd_key",
        disabled: false,
      },
    ]);
    expect(() => loadConfig({ env: { AAT_ALERTS_SOURCES_JSON: '{"id":"gd"}' } })).toThrow(
      /alerts\.sources \(env AAT_ALERTS_SOURCES_JSON\): is valid JSON but not an array/,
    );
  });
});
