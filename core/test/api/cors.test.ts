import { describe, expect, it } from "vitest";
import { makeApi } from "./harness.js";

describe("CORS for a site served from another origin", () => {
  it("answers a preflight from a listed origin before authentication, and marks its responses", async () => {
    const api = await makeApi({ config: { server: { corsOrigins: ["https://app.example.com"] } } });
    const preflight = await api.app.request("/v1/runs", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-api-key");

    const refused = await api.app.request("/v1/runs", { headers: { Origin: "https://app.example.com" } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  });

  it("gives no CORS headers to an origin that is not listed, nor when none are configured", async () => {
    const listed = await makeApi({ config: { server: { corsOrigins: ["https://app.example.com"] } } });
    const other = await listed.app.request("/healthz", { headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();

    const none = await makeApi();
    const plain = await none.app.request("/healthz", { headers: { Origin: "https://app.example.com" } });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });
});
