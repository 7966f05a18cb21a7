import { describe, expect, it } from "vitest";
import { deployConfigSchema, MODEL_KEY_ENV, webhookSecretEnv } from "../src/index.js";

describe("runtime environment names", () => {
  it("maps every model provider the schema accepts", () => {
    const providers = deployConfigSchema.shape.modelSecrets.unwrap().keyType.options;
    expect(Object.keys(MODEL_KEY_ENV).sort()).toEqual([...providers].sort());
  });

  it("names webhook secrets exactly as core's EnvSecrets reads them", () => {
    // core/src/secrets/secrets.ts secretEnvName: upper case, anything but A-Z and 0-9 becomes "_".
    expect(webhookSecretEnv("aat-webhook-demo")).toBe("AAT_SECRET_AAT_WEBHOOK_DEMO");
    expect(webhookSecretEnv("team/github.hook")).toBe("AAT_SECRET_TEAM_GITHUB_HOOK");
  });
});
