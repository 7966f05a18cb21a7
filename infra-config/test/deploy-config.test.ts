import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DeployConfigError, forTarget, parseDeployConfig, resourcePrefix } from "../src/index.js";

const example = readFileSync(new URL("../../deploy.config.example.yaml", import.meta.url), "utf8");

function problemOf(text: string): string {
  try {
    parseDeployConfig(text, "bad.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(DeployConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the config to be refused");
}

describe("deploy config", () => {
  it("reads the shipped example with every target", () => {
    const config = parseDeployConfig(example);
    expect(resourcePrefix(config)).toBe("aat-dev");
    expect(forTarget(config, "aws").aws).toMatchObject({
      region: "eu-west-1",
      queue: { kind: "sqs", batchSize: 10 },
    });
    expect(forTarget(config, "gcp").gcp.kv).toEqual({ kind: "upstash", secret: "aat-upstash" });
    expect(forTarget(config, "azure").azure.queue.duplicateDetectionMinutes).toBe(10);
    expect(forTarget(config, "onprem").onprem.workerFeed).toBe("keda");
  });

  it("fills defaults so a minimal file deploys", () => {
    const config = parseDeployConfig("name: acme\nenvironment: prod\naws: { region: us-east-1 }\n");
    expect(config.aws?.kv).toEqual({ kind: "dynamodb" });
    expect(config.sizes.worker.timeoutSeconds).toBe(300);
    expect(config.site).toBe(true);
  });

  it("names the key, its line and the reason for a bad value", () => {
    const message = problemOf(
      "name: acme\nenvironment: prod\naws:\n  region: eu-west-1\n  queue:\n    batchSize: 50\n",
    );
    expect(message).toContain("bad.yaml:6:16 aws.queue.batchSize:");
    expect(message).toMatch(/<=\s*10/);
    expect(message).toContain("docs/deploy-config.md");
  });

  it("refuses a queue kind the target cannot run", () => {
    const message = problemOf(
      "name: acme\nenvironment: prod\naws:\n  region: eu-west-1\n  queue: { kind: pubsub }\n",
    );
    expect(message).toContain("aws.queue.kind:");
    expect(message).toContain('"sqs"');
  });

  it("points at an unknown key", () => {
    const message = problemOf("name: acme\nenvironment: prod\nawz: { region: eu-west-1 }\n");
    expect(message).toMatch(/bad\.yaml:1:1 awz: unknown key/);
  });

  it("says which section is missing for a target", () => {
    const config = parseDeployConfig("name: acme\nenvironment: prod\n");
    expect(() => forTarget(config, "gcp", "x.yaml")).toThrow(
      /x\.yaml gcp: missing: deploying to gcp needs this section/,
    );
  });

  it("reports a YAML syntax error with its position", () => {
    expect(problemOf("name: [acme\n")).toMatch(/bad\.yaml:\d+:\d+ \(file\): not valid YAML/);
  });

  it("refuses a resource name that clouds would reject", () => {
    expect(problemOf("name: Acme_Corp\nenvironment: prod\n")).toContain(
      "bad.yaml:1:7 name: use 3–20 lower-case",
    );
  });

  it("takes extra function environment for AWS and names a bad variable name", () => {
    const config = parseDeployConfig(
      'name: acme\nenvironment: prod\naws:\n  region: eu-west-1\n  environment:\n    AAT_MODELS_JSON: \'{"default":{"provider":"offline"}}\'\n',
    );
    expect(config.aws?.environment).toEqual({ AAT_MODELS_JSON: '{"default":{"provider":"offline"}}' });
    expect(
      parseDeployConfig("name: acme\nenvironment: prod\naws: { region: eu-west-1 }\n").aws?.environment,
    ).toEqual({});
    expect(
      problemOf(
        "name: acme\nenvironment: prod\naws:\n  region: eu-west-1\n  environment:\n    aat-mode: x\n",
      ),
    ).toMatch(/aws\.environment\.aat-mode: .*environment variable name/);
  });
});
