import { Match, type Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionsOf, logicalId, resourceTargets, statementsOf } from "./iam.js";
import { BASE_YAML, synth, type Workdir, workdir } from "./support.js";

// The real bundles are built once for the file (the slow part, with loading aws-cdk-lib); each describe
// synthesises its variant once: the default shape (standard queue, DynamoDB, site), FIFO, Upstash.
let work: Workdir;
let template: Template;
let fifo: Template;
let upstash: Template;
const FUNCTIONS = ["aat-dev-http", "aat-dev-worker", "aat-dev-schedule"];

beforeAll(async () => {
  work = await workdir();
}, 180_000);
afterAll(() => work?.cleanup());

const fnId = (name: string) => logicalId(template, "AWS::Lambda::Function", { FunctionName: name });
const roleOf = (name: string): string =>
  template.findResources("AWS::Lambda::Function")[fnId(name)]!.Properties.Role["Fn::GetAtt"][0];

describe("AWS stack (standard queue, DynamoDB, site)", () => {
  beforeAll(() => {
    template = synth(
      work,
      `${BASE_YAML}aws:
  region: eu-west-1
  logRetentionDays: 14
  environment:
    AAT_MODELS_JSON: '{"default":{"provider":"openai","model":"gpt-4o-mini"}}'
`,
    );
  }, 120_000);

  it("runs the three handlers on Node 22, arm64, from the real bundles", () => {
    for (const name of FUNCTIONS) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: name,
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        Code: { S3Key: Match.stringLikeRegexp("^[0-9a-f]{64}\\.zip$") },
      });
    }
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "aat-dev-http",
      MemorySize: 512,
      Timeout: 30,
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "aat-dev-worker",
      MemorySize: 1024,
      Timeout: 300,
    });
  });

  it("gives every function the runtime's configuration: SQS queue, DynamoDB table, secrets, CORS, aws.environment", () => {
    const queue = logicalId(template, "AWS::SQS::Queue", { QueueName: "aat-dev-steps" });
    const table = logicalId(template, "AWS::DynamoDB::Table", { TableName: "aat-dev-state" });
    const adminKey = logicalId(template, "AWS::SecretsManager::Secret", {
      Name: "aat-dev-bootstrap-admin-key",
    });
    for (const name of FUNCTIONS) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: name,
        Environment: {
          Variables: Match.objectEquals({
            AAT_MODELS_JSON: '{"default":{"provider":"openai","model":"gpt-4o-mini"}}',
            AAT_QUEUE_KIND: "sqs",
            AAT_SQS_QUEUE_URL: { Ref: queue },
            AAT_SQS_FIFO: "false",
            AAT_SQS_REGION: "eu-west-1",
            AAT_SQS_PROVISION: "false",
            AAT_KV_KIND: "dynamodb",
            AAT_DYNAMODB_TABLE: { Ref: table },
            AAT_DYNAMODB_REGION: "eu-west-1",
            OPENAI_API_KEY: "{{resolve:secretsmanager:aat-openai-key:SecretString:::}}",
            ANTHROPIC_API_KEY: "{{resolve:secretsmanager:aat-anthropic-key:SecretString:::}}",
            AAT_SECRET_AAT_WEBHOOK_DEMO: {
              "Fn::Join": [
                "",
                ["{{resolve:secretsmanager:", { Ref: Match.anyValue() }, ":SecretString:::}}"],
              ],
            },
            AAT_AUTH_BOOTSTRAP_ADMIN_KEY: {
              "Fn::Join": [
                "",
                ["aat_aat-dev-admin_{{resolve:secretsmanager:", { Ref: adminKey }, ":SecretString:::}}"],
              ],
            },
            AAT_SERVER_CORS_ORIGINS: {
              "Fn::Join": ["", ["https://", { "Fn::GetAtt": [Match.anyValue(), "DomainName"] }]],
            },
          }),
        },
      });
    }
  });

  it("feeds the worker from the step queue with ReportBatchItemFailures, batch size and max concurrency", () => {
    const queue = logicalId(template, "AWS::SQS::Queue", { QueueName: "aat-dev-steps" });
    template.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: fnId("aat-dev-worker") },
      EventSourceArn: { "Fn::GetAtt": [queue, "Arn"] },
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });

  it("redrives the step queue to <name>-dlq after maxReceiveCount, visibility above the worker timeout", () => {
    const dlq = logicalId(template, "AWS::SQS::Queue", { QueueName: "aat-dev-steps-dlq" });
    template.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: "aat-dev-steps",
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlq, "Arn"] }, maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: "aat-dev-steps-dlq",
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it("keeps state in DynamoDB shaped as adapters/dynamodb expects: pk/sk strings, on-demand, TTL on ttl", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      TableName: "aat-dev-state",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
    });
  });

  it("scopes the functions' data actions to this stack's queues and table, never to *", () => {
    const queue = logicalId(template, "AWS::SQS::Queue", { QueueName: "aat-dev-steps" });
    const dlq = logicalId(template, "AWS::SQS::Queue", { QueueName: "aat-dev-steps-dlq" });
    const table = logicalId(template, "AWS::DynamoDB::Table", { TableName: "aat-dev-state" });
    for (const name of FUNCTIONS) {
      const statements = statementsOf(template, [roleOf(name)]);
      expect(statements.length).toBeGreaterThan(0);
      const granted = new Set<string>();
      for (const statement of statements) {
        const targets = resourceTargets(statement.Resource);
        expect(targets, JSON.stringify(statement)).not.toContain("*");
        for (const action of actionsOf(statement)) {
          granted.add(action);
          if (action.startsWith("sqs:")) expect(targets.every((t) => t === queue || t === dlq)).toBe(true);
          if (action.startsWith("dynamodb:"))
            expect(targets.every((t) => t === table || t === "AWS::NoValue")).toBe(true);
          expect(action.startsWith("secretsmanager:"), "secrets reach the functions at deploy").toBe(false);
        }
      }
      for (const needed of [
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:DescribeTable",
      ]) {
        expect(granted, `${name} needs ${needed}`).toContain(needed);
      }
      // The stack owns the queues (AAT_SQS_PROVISION=false): the runtime may not create any.
      expect(granted).not.toContain("sqs:CreateQueue");
    }
  });

  it("serves the http function through an HTTP API (no Function URL unless configured)", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", { Name: "aat-dev-api", ProtocolType: "HTTP" });
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
      PayloadFormatVersion: "2.0",
      IntegrationUri: { "Fn::GetAtt": [fnId("aat-dev-http"), "Arn"] },
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "$default" });
    template.resourceCountIs("AWS::Lambda::Url", 0);
  });

  it("ticks the schedule function every minute through EventBridge Scheduler with its own scoped role", () => {
    const schedule = fnId("aat-dev-schedule");
    const role = logicalId(template, "AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: "scheduler.amazonaws.com" } })],
      },
    });
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      Name: "aat-dev-tick",
      GroupName: "aat-dev-schedules",
      ScheduleExpression: "rate(1 minute)",
      Target: {
        Arn: { "Fn::GetAtt": [schedule, "Arn"] },
        Input: "{}",
        RoleArn: { "Fn::GetAtt": [role, "Arn"] },
      },
    });
    const statements = statementsOf(template, [role]);
    expect(statements.flatMap(actionsOf)).toEqual(["lambda:InvokeFunction"]);
    for (const statement of statements)
      expect(new Set(resourceTargets(statement.Resource))).toEqual(new Set([schedule]));
  });

  it("creates the webhook secrets and the admin key secret, and references (never creates) model key secrets", () => {
    template.resourceCountIs("AWS::SecretsManager::Secret", 2);
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      Name: "aat-dev-bootstrap-admin-key",
      GenerateSecretString: Match.objectLike({ ExcludePunctuation: true, PasswordLength: 48 }),
    });
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      Name: "aat-webhook-demo",
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
    });
  });

  it("deploys the site to a private bucket behind CloudFront and writes /config.json with the API URL", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: "index.html",
        CacheBehaviors: [Match.objectLike({ PathPattern: "/config.json" })],
      }),
    });
    template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
    const api = logicalId(template, "AWS::ApiGatewayV2::Api", { Name: "aat-dev-api" });
    template.hasResourceProperties("Custom::CDKBucketDeployment", {
      SourceMarkers: [{}, { "<<marker:0xbaba:0>>": { "Fn::GetAtt": [api, "ApiEndpoint"] } }],
      DistributionPaths: ["/*"],
      Prune: true,
    });
  });

  it("keeps logs for the configured days and alarms on dead letters and on each function's errors", () => {
    for (const name of FUNCTIONS) {
      template.hasResourceProperties("AWS::Logs::LogGroup", {
        LogGroupName: `/aws/lambda/${name}`,
        RetentionInDays: 14,
      });
    }
    const dlq = logicalId(template, "AWS::SQS::Queue", { QueueName: "aat-dev-steps-dlq" });
    const topic = logicalId(template, "AWS::SNS::Topic", { TopicName: "aat-dev-alarms" });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlq, "QueueName"] } }],
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topic }],
    });
    for (const name of FUNCTIONS) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: [{ Name: "FunctionName", Value: { Ref: fnId(name) } }],
        AlarmActions: [{ Ref: topic }],
      });
    }
  });
});

// Variants: without the site, which the default shape covers.
const noSite = BASE_YAML.replace("site: true", "site: false");

describe("FIFO queue variant (with a Function URL, without the site)", () => {
  beforeAll(() => {
    fifo = synth(
      work,
      `${noSite}aws:
  region: us-east-1
  queue: { kind: sqs, fifo: true, batchSize: 5, maxConcurrency: 3, maxReceiveCount: 7, visibilityTimeoutSeconds: 900 }
  functionUrl: true
`,
    );
  }, 120_000);

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
  beforeAll(() => {
    upstash = synth(
      work,
      `${noSite}aws:\n  region: eu-central-1\n  kv: { kind: upstash, secret: aat-upstash }\n`,
    );
  }, 120_000);

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
