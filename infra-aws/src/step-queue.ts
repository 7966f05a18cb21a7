import { Duration, type Duration as DurationType } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface StepQueueProps {
  /** Queue name without ".fifo"; the dead-letter queue is "<name>-dlq" as adapters/sqs names it. */
  name: string;
  fifo: boolean;
  visibilityTimeout: DurationType;
  maxReceiveCount: number;
}

/**
 * The step queue and its dead-letter queue, named and shaped as the SQS adapter (adapters/sqs) expects:
 * "<name>[.fifo]" with a redrive policy to "<name>-dlq[.fifo]" kept 14 days; FIFO queues use explicit
 * deduplication ids (the adapter sends them), never content-based ones.
 */
export class StepQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: StepQueueProps) {
    super(scope, id);
    const suffix = props.fifo ? ".fifo" : "";
    const fifo = props.fifo ? { fifo: true, contentBasedDeduplication: false } : {};
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetters", {
      queueName: `${props.name}-dlq${suffix}`,
      ...fifo,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, "Queue", {
      queueName: `${props.name}${suffix}`,
      ...fifo,
      visibilityTimeout: props.visibilityTimeout,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }

  /**
   * What the aat runtime does with the queues, on these two queues only: send and consume steps, move a
   * message to the dead-letter queue, list and redrive dead letters, extend visibility while a step
   * runs, and the adapter's start-up read of the queue's settings (AAT_SQS_PROVISION=false: it opens the
   * queues as deployed and creates none).
   */
  grantRuntime(grantee: iam.IGrantable): void {
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.grantSendMessages(grantee);
      queue.grantConsumeMessages(grantee);
    }
    iam.Grant.addToPrincipal({
      grantee,
      actions: ["sqs:GetQueueAttributes"],
      resourceArns: [this.queue.queueArn, this.deadLetterQueue.queueArn],
    });
  }
}
