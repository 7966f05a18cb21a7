import { generateWithModel } from "@aat/core";
import { OAuth2Client } from "google-auth-library";
import { describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";
import { recordingFetch } from "./helpers.js";

function geminiAnswer(text: string) {
  return {
    body: {
      candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 2, totalTokenCount: 10 },
    },
  };
}

describe("google-vertex provider: configuration and the request it builds", () => {
  it("with a service identity: the project and location URL, an OAuth bearer token, the Gemini body", async () => {
    const { fetch, requests } = recordingFetch(() => geminiAnswer("from vertex"));
    // A real google-auth-library client holding a token, so no metadata server or key file is needed.
    const authClient = new OAuth2Client();
    authClient.setCredentials({
      access_token: "ya29.test-access-token",
      expiry_date: Date.now() + 3_600_000,
    });
    const registry = createModelRegistry(
      {
        default: "gcp",
        providers: {
          gcp: {
            provider: "google-vertex",
            model: "gemini-2.5-flash",
            project: "aat-demo-project",
            region: "europe-west4",
          },
        },
      },
      { env: {}, fetch, vertexGoogleAuthOptions: { authClient } },
    );
    const result = await generateWithModel(registry.resolve(), { system: "Be brief.", prompt: "hello" });

    expect(result).toMatchObject({
      text: "from vertex",
      usage: { inputTokens: 8, outputTokens: 2, totalTokens: 10 },
    });
    expect(requests[0]).toMatchObject({
      method: "POST",
      url: "https://europe-west4-aiplatform.googleapis.com/v1beta1/projects/aat-demo-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent",
      headers: { authorization: "Bearer ya29.test-access-token" },
      body: {
        systemInstruction: { parts: [{ text: "Be brief." }] },
        contents: [{ role: "user", parts: [{ text: "hello" }] }],
      },
    });
  });

  it("with an API key (express mode): the global endpoint and the x-goog-api-key header", async () => {
    const { fetch, requests } = recordingFetch(() => geminiAnswer("express"));
    const registry = createModelRegistry(
      {
        default: "gcp",
        providers: {
          gcp: { provider: "google-vertex", model: "gemini-2.5-flash", apiKey: "vertex-key-123456" },
        },
      },
      { env: {}, fetch },
    );
    await generateWithModel(registry.resolve(), { prompt: "hello" });
    expect(requests[0]!.url).toBe(
      "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash:generateContent",
    );
    expect(requests[0]!.headers["x-goog-api-key"]).toBe("vertex-key-123456");
  });

  it("reads GOOGLE_VERTEX_PROJECT/LOCATION and refuses to start without them", () => {
    const providers = { gcp: { provider: "google-vertex" as const, model: "gemini-2.5-flash" } };
    const fromEnv = createModelRegistry(
      { default: "gcp", providers },
      { env: { GOOGLE_VERTEX_PROJECT: "aat-demo-project", GOOGLE_VERTEX_LOCATION: "us-central1" } },
    );
    expect(fromEnv.has("gcp")).toBe(true);
    expect(() => createModelRegistry({ default: "gcp", providers }, { env: {} })).toThrow(
      /project is missing: set models.providers.gcp.project \(AAT_MODEL_GCP_PROJECT\) or GOOGLE_VERTEX_PROJECT/,
    );
    expect(() =>
      createModelRegistry(
        { default: "gcp", providers },
        { env: { GOOGLE_VERTEX_PROJECT: "aat-demo-project" } },
      ),
    ).toThrow(/location is missing/);
  });
});
