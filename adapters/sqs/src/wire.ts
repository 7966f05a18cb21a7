/**
 * SQS's JSON protocol shapes the adapter reads and writes (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/):
 * what `AwsJsonRestClient` sends and receives, and what the SDK-backed client (sdk-client.ts) converts
 * the SDK's shapes to and from. Type-only: no AWS SDK here.
 */

/** A message attribute on the wire: binary values are base64 text (the SDK's are bytes). */
export interface SqsMessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** A message of a ReceiveMessage output; attribute values are strings (SentTimestamp in epoch ms). */
export interface SqsMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, SqsMessageAttributeValue>;
}

export interface ReceiveMessageOutput {
  /** Absent (not empty) when nothing was received. */
  Messages?: SqsMessage[];
}

export interface SendMessageOutput {
  MessageId?: string;
}

export interface QueueUrlOutput {
  QueueUrl?: string;
}

export interface QueueAttributesOutput {
  /** Every value is a string, numbers included ("30", "1"). */
  Attributes?: Record<string, string>;
}
