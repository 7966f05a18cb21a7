import { resourcePrefix } from "@aat/infra-config";
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as logs from "aws-cdk-lib/aws-logs";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as targets from "aws-cdk-lib/aws-scheduler-targets";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { type FunctionRole, LAMBDA_ARCH, type LambdaBundles, SIZE_OF } from "./bundles.js";
import type { AwsDeployConfig } from "./config.js";
import { functionEnvironment } from "./environment.js";
import { Site } from "./site.js";
import { StepQueue } from "./step-queue.js";

export interface AatAwsStackProps extends StackProps {
  config: AwsDeployConfig;
  bundles: LambdaBundles;
  /** The built site (required when `config.site` is true; see siteDist). */
  siteDir?: string;
}

/**
 * Everything aat needs on AWS, from the deploy configuration: three Lambdas (Node 22, arm64) on the real
 * functions/aws bundles, the HTTP API, the step queue with its dead-letter queue, the scheduler tick, the
 * state store (DynamoDB with TTL, or Upstash through a secret), secrets, the site, log retention and alarms.
 * Grants are scoped to this stack's queue, table and secrets.
 */
export class AatAwsStack extends Stack {
  readonly functions: Record<FunctionRole, lambda.Function>;

  constructor(scope: Construct, id: string, props: AatAwsStackProps) {
    super(scope, id, props);
    const { config, bundles } = props;
    const prefix = resourcePrefix(config);
    const retain = config.environment === "prod";

    const steps = new StepQueue(this, "Steps", {
      name: `${prefix}-steps`,
      fifo: config.aws.queue.fifo,
      visibilityTimeout: Duration.seconds(config.aws.queue.visibilityTimeoutSeconds),
      maxReceiveCount: config.aws.queue.maxReceiveCount,
    });

    // State: a DynamoDB table shaped as adapters/dynamodb expects (pk/sk strings, TTL on `ttl`), or
    // Upstash, whose URL and token live in an existing secret (values from the Upstash console).
    let table: dynamodb.Table | undefined;
    let upstash: { url: string; token: string } | undefined;
    if (config.aws.kv.kind === "dynamodb") {
      table = new dynamodb.Table(this, "State", {
        tableName: `${prefix}-state`,
        partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
        sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: "ttl",
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: retain },
        removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
    } else {
      const name = config.aws.kv.secret;
      upstash = {
        url: SecretValue.secretsManager(name, { jsonField: "url" }).unsafeUnwrap(),
        token: SecretValue.secretsManager(name, { jsonField: "token" }).unsafeUnwrap(),
      };
    }

    // Model keys: existing secrets (you hold the values); webhook secrets: created here with a random value
    // you give to the alert source (or replace). Both reach the functions as dynamic references resolved
    // by CloudFormation at deploy, so the functions' role needs no secretsmanager:GetSecretValue.
    const modelKeys: Record<string, string> = {};
    for (const name of Object.values(config.modelSecrets)) {
      if (name) modelKeys[name] = SecretValue.secretsManager(name).unsafeUnwrap();
    }
    const webhookSecrets: Record<string, string> = {};
    for (const [index, name] of config.webhookSecrets.entries()) {
      const secret = new secretsmanager.Secret(this, `WebhookSecret${index}`, {
        secretName: name,
        description: `${prefix}: webhook secret for alert sources (AAT_SECRET_… of the functions)`,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      webhookSecrets[name] = secret.secretValue.unsafeUnwrap();
    }

    // The first admin API key: its secret part is generated here (letters and digits, the key form's
    // `aat_<id>_<secret>`); read it back with the command in docs/deploy-aws.md, make real keys, revoke it.
    const adminKeyId = `${prefix}-admin`;
    const adminKey = new secretsmanager.Secret(this, "BootstrapAdminKey", {
      secretName: `${prefix}-bootstrap-admin-key`,
      description: `${prefix}: secret part of the first admin API key aat_${adminKeyId}_<this value>`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const site = config.site
      ? new Site(this, "Site", {
          prefix,
          retain,
          ...(config.domain ? { domain: config.domain } : {}),
          ...(config.aws.certificateArn ? { certificateArn: config.aws.certificateArn } : {}),
        })
      : undefined;

    const environment = functionEnvironment(config, {
      queueUrl: steps.queue.queueUrl,
      ...(table ? { tableName: table.tableName } : {}),
      ...(upstash ? { upstash } : {}),
      modelKeys,
      webhookSecrets,
      corsOrigins: site?.origins ?? [],
      bootstrapAdminKey: `aat_${adminKeyId}_${adminKey.secretValue.unsafeUnwrap()}`,
    });
    const retention = config.aws.logRetentionDays as logs.RetentionDays;
    const make = (role: FunctionRole, size: { memoryMb: number; timeoutSeconds: number }, what: string) => {
      const functionName = `${prefix}-${role}`;
      const fn = new lambda.Function(this, `${role[0]!.toUpperCase()}${role.slice(1)}Function`, {
        functionName,
        description: `${prefix}: ${what}`,
        runtime: lambda.Runtime.NODEJS_22_X,
        // The code cache is made for this arch (bundles.ts).
        architecture: LAMBDA_ARCH === "arm64" ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        handler: "index.handler",
        code: lambda.Code.fromAsset(bundles[role]),
        memorySize: size.memoryMb,
        timeout: Duration.seconds(size.timeoutSeconds),
        environment,
        logGroup: new logs.LogGroup(this, `${role}Logs`, {
          logGroupName: `/aws/lambda/${functionName}`,
          retention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
      steps.grantRuntime(fn);
      table?.grantReadWriteData(fn);
      return fn;
    };
    // Sizes by SIZE_OF (bundles.ts, whose code cache is made for each function's memory).
    this.functions = {
      http: make("http", config.sizes[SIZE_OF.http], "HTTP API (API Gateway HTTP API / Function URL)"),
      worker: make("worker", config.sizes[SIZE_OF.worker], "step worker (SQS event source)"),
      schedule: make(
        "schedule",
        config.sizes[SIZE_OF.schedule],
        "plan schedule tick (EventBridge Scheduler)",
      ),
    };

    this.functions.worker.addEventSource(
      new SqsEventSource(steps.queue, {
        batchSize: config.aws.queue.batchSize,
        maxConcurrency: config.aws.queue.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    const api = new apigw.HttpApi(this, "Api", {
      apiName: `${prefix}-api`,
      description: `${prefix}: aat API, webhooks and health`,
      defaultIntegration: new HttpLambdaIntegration("Http", this.functions.http),
    });
    const apiUrl = api.apiEndpoint;
    if (config.aws.functionUrl) {
      const url = this.functions.http.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
      new CfnOutput(this, "FunctionUrl", { value: url.url, description: "http Lambda Function URL" });
    }

    // One tick a minute with an empty Input: the schedule handler fires every plan's due `schedule`
    // triggers exactly once (functions/aws/src/schedule-handler.ts). A missed tick is caught by the next.
    const schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": this.account } },
      }),
      description: `${prefix}: EventBridge Scheduler invokes the schedule function`,
    });
    const group = new scheduler.ScheduleGroup(this, "Schedules", {
      scheduleGroupName: `${prefix}-schedules`,
    });
    new scheduler.Schedule(this, "Tick", {
      scheduleName: `${prefix}-tick`,
      description: `${prefix}: check plan schedule triggers every minute`,
      scheduleGroup: group,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      target: new targets.LambdaInvoke(this.functions.schedule, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({}),
        retryAttempts: 2,
        maxEventAge: Duration.minutes(1),
      }),
    });

    if (site && props.siteDir) site.deploy(props.siteDir, apiUrl);
    else if (site) throw new Error("AatAwsStack: config.site is true but no siteDir was given");

    // Alarms go to one SNS topic: subscribe an email or a chat integration to it (docs/deploy-aws.md).
    const topic = new sns.Topic(this, "Alarms", { topicName: `${prefix}-alarms`, enforceSSL: true });
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) =>
      new cloudwatch.Alarm(this, id, {
        alarmName: `${prefix}-${id.replace(/[A-Z]/g, (c, i) => (i ? "-" : "") + c.toLowerCase())}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new actions.SnsAction(topic));
    alarm(
      "DeadLetters",
      steps.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      "Step messages reached the dead-letter queue: inspect them (aat dead-letters) and redrive or drop them",
    );
    for (const [role, fn] of Object.entries(this.functions)) {
      alarm(
        `${role[0]!.toUpperCase()}${role.slice(1)}Errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        `The ${role} function failed (an invocation error, not a step failure): see its log group`,
      );
    }

    new CfnOutput(this, "ApiUrl", { value: apiUrl, description: "aat API base URL" });
    new CfnOutput(this, "QueueUrl", { value: steps.queue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: steps.deadLetterQueue.queueUrl });
    new CfnOutput(this, "AlarmTopicArn", { value: topic.topicArn });
    new CfnOutput(this, "AdminKeySecret", {
      value: adminKey.secretName,
      description: `the first admin key is aat_${adminKeyId}_<this secret's value>`,
    });
    if (table) new CfnOutput(this, "TableName", { value: table.tableName });
    if (site) new CfnOutput(this, "SiteUrl", { value: site.url, description: "the web site" });
  }
}
