import { Match, type Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionsOf, logicalId, resourceTargets, statementsOf } from "./iam.js";
import { BASE_YAML, synth, type Workdir, workdir } from "./support.js";

// The real bundles are built once for the file; each variant is one synth (without the site, which the
// default-shape test covers, to keep the file fast).
let work: Workdir;
let fifo: Template;
let upstash: Template;

const noSite = BASE_YAML.replace("site: true", "site: false");

beforeAll(async () => {
  work = await workdir();
  fifo = synth(
    work,
    `${noSite}aws:
  region: us-east-1
  queue: { kind: sqs, fifo: true, batchSize: 5, maxConcurrency: 3, maxReceiveCount: 7, visibilityTimeoutSeconds: 900 }
  functionUrl: true
`,
  );
  upstash = synth(
    work,
    `${noSite}aws:\n  region: eu-central-1\n  kv: { kind: upstash, secret: aat-upstash }\n`,
  );
}, 240_000);
afterAll(() => work?.cleanup());

describe("FIFO queue variant", () => {
  it("creates <name>.fifo and <name>-dlq.fifo with explicit deduplication and the configured redrive", () => {
    const dlq = logicalId(fifo, "AWS::SQS::Queue", { QueueName: "aat-dev-steps-dlq.fifo" });
    fifo.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: "aat-dev-steps-dlq.fifo",
      FifoQueue: true,
      ContentBasedDeduplication: false,
    });
    fifo.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: "aat-dev-steps.fifo",
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: 900,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlq, "Arn"] }, maxReceiveCount: 7 },
    });
  });

  it("maps the worker with the configured batch size and concurrency, reporting batch item failures", () => {
    const queue = logicalId(fifo, "AWS::SQS::Queue", { QueueName: "aat-dev-steps.fifo" });
    fifo.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [queue, "Arn"] },
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 3 },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("tells the functions the queue is FIFO", () => {
    fifo.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "aat-dev-worker",
      Environment: { Variables: Match.objectLike({ AAT_SQS_FIFO: "true", AAT_SQS_REGION: "us-east-1" }) },
    });
  });

  it("adds a Function URL to the http function when configured, and no site or CORS without one", () => {
    fifo.hasResourceProperties("AWS::Lambda::Url", { AuthType: "NONE" });
    fifo.resourceCountIs("AWS::CloudFront::Distribution", 0);
    fifo.resourceCountIs("Custom::CDKBucketDeployment", 0);
    const env = fifo.findResources("AWS::Lambda::Function", { Properties: { FunctionName: "aat-dev-http" } });
    expect(Object.values(env)[0]!.Properties.Environment.Variables).not.toHaveProperty(
      "AAT_SERVER_CORS_ORIGINS",
    );
  });
});

describe("Upstash variant", () => {
  it("creates no DynamoDB table and reads Upstash's url and token from the named secret at deploy", () => {
    upstash.resourceCountIs("AWS::DynamoDB::Table", 0);
    for (const name of ["aat-dev-http", "aat-dev-worker", "aat-dev-schedule"]) {
      upstash.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: name,
        Environment: {
          Variables: Match.objectLike({
            AAT_KV_KIND: "upstash",
            AAT_UPSTASH_URL: "{{resolve:secretsmanager:aat-upstash:SecretString:url::}}",
            AAT_UPSTASH_TOKEN: "{{resolve:secretsmanager:aat-upstash:SecretString:token::}}",
          }),
        },
      });
    }
    const fn = Object.values(
      upstash.findResources("AWS::Lambda::Function", { Properties: { FunctionName: "aat-dev-worker" } }),
    )[0]!;
    expect(fn.Properties.Environment.Variables).not.toHaveProperty("AAT_DYNAMODB_TABLE");
  });

  it("grants no DynamoDB or Secrets Manager actions, and SQS only on the stack's queues", () => {
    const queues = Object.keys(upstash.findResources("AWS::SQS::Queue"));
    const roles = Object.values(upstash.findResources("AWS::Lambda::Function"))
      .filter((fn) => String(fn.Properties.FunctionName ?? "").startsWith("aat-dev-"))
      .map((fn) => fn.Properties.Role["Fn::GetAtt"][0] as string);
    expect(roles).toHaveLength(3);
    const actions = statementsOf(upstash, roles).flatMap((statement) => {
      const targets = resourceTargets(statement.Resource);
      expect(targets).not.toContain("*");
      expect(targets.every((target) => queues.includes(target))).toBe(true);
      return actionsOf(statement);
    });
    expect(actions.some((action) => action.startsWith("dynamodb:"))).toBe(false);
    expect(actions.some((action) => action.startsWith("secretsmanager:"))).toBe(false);
  });
});
