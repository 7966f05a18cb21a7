import { generateWithModel } from "@aat/core";
import { ScriptedLlmServer } from "@aat/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createModelRegistry } from "../src/index.js";
import { redirectingFetch } from "./helpers.js";

describe("azure provider: configuration and the request it builds", () => {
  let server: ScriptedLlmServer;
  beforeEach(async () => {
    server = await ScriptedLlmServer.start();
  });
  afterEach(() => server.close());

  it("calls the deployment on the resource's v1 chat completions URL with the api-key header", async () => {
    server.enqueue({ kind: "reply", text: "from azure", usage: { inputTokens: 5, outputTokens: 2 } });
    const { fetch, urls } = redirectingFetch(server.url);
    const key = "azure-key-0123456789abcdef";
    const registry = createModelRegistry(
      {
        default: "azure",
        providers: {
          azure: {
            provider: "azure",
            model: "gpt-4o-prod",
            apiKey: key,
            baseUrl: "https://contoso.openai.azure.com/openai",
          },
        },
      },
      { env: {}, fetch },
    );
    const result = await generateWithModel(registry.resolve(), { prompt: "hello" });

    expect(result.text).toBe("from azure");
    expect(urls).toEqual(["https://contoso.openai.azure.com/openai/v1/chat/completions?api-version=v1"]);
    expect(server.requests[0]).toMatchObject({
      headers: { "api-key": "<redacted>" },
      body: { model: "gpt-4o-prod", messages: [{ role: "user", content: "hello" }] },
    });
    expect(server.requests[0]!.headers).not.toHaveProperty("authorization");
    expect(server.usedCredential(0, key)).toBe(true);
  });

  it("takes the key from AZURE_API_KEY and refuses to start without one", () => {
    const providers = {
      azure: {
        provider: "azure" as const,
        model: "gpt-4o",
        baseUrl: "https://contoso.openai.azure.com/openai",
      },
    };
    expect(
      createModelRegistry({ default: "azure", providers }, { env: { AZURE_API_KEY: "k" } }).has("azure"),
    ).toBe(true);
    expect(() => createModelRegistry({ default: "azure", providers }, { env: {} })).toThrow(
      "models.providers.azure (azure): no API key: set models.providers.azure.apiKey (AAT_MODEL_AZURE_API_KEY) or AZURE_API_KEY",
    );
  });
});
