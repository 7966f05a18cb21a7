import { describe, expect, it } from "vitest";
import { deployConfigSchema, MODEL_KEY_ENV, parseDeployConfig, webhookSecretEnv } from "../src/index.js";

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

  it("takes extra function environment for GCP and Azure as for AWS", () => {
    const config = parseDeployConfig(
      "name: acme\nenvironment: prod\ngcp:\n  project: my-aat-project\n  region: europe-west1\n  environment: { AAT_LOG_LEVEL: debug }\nazure:\n  location: westeurope\n",
    );
    expect(config.gcp?.environment).toEqual({ AAT_LOG_LEVEL: "debug" });
    expect(config.azure?.environment).toEqual({});
    expect(() =>
      parseDeployConfig(
        "name: acme\nenvironment: prod\nazure:\n  location: westeurope\n  environment: { log-level: x }\n",
      ),
    ).toThrow(/azure\.environment\.log-level: not an environment variable name/);
  });
});
