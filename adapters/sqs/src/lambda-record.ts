import type { Message } from "@aws-sdk/client-sqs";
import { z } from "zod";

/**
 * One record of an SQS event as Lambda's event source mapping delivers it (the fields the adapter reads;
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html). Its own module without the AWS SDK, so a
 * handler can check records before the SDK is loaded: `@aat/adapter-sqs/lambda`.
 */
export const sqsLambdaRecordSchema = z.object({
  messageId: z.string().min(1),
  receiptHandle: z.string().min(1),
  body: z.string(),
  attributes: z.record(z.string(), z.string()).default({}),
  messageAttributes: z
    .record(
      z.string(),
      z.object({
        dataType: z.string(),
        stringValue: z.string().nullish(),
        /** Base64, as Lambda encodes binary attribute values. */
        binaryValue: z.string().nullish(),
      }),
    )
    .default({}),
  eventSourceARN: z.string().optional(),
});

/** A Lambda SQS event record, checked by sqsLambdaRecordSchema. */
export type SqsLambdaRecord = z.output<typeof sqsLambdaRecordSchema>;

/**
 * The record in the shape of an SDK ReceiveMessage result (camelCase fields to the SDK's PascalCase,
 * base64 binary values to bytes): what SqsQueue decodes for its own receives.
 */
export function lambdaRecordToMessage(record: SqsLambdaRecord): Message {
  const attributes: NonNullable<Message["MessageAttributes"]> = {};
  for (const [name, value] of Object.entries(record.messageAttributes)) {
    attributes[name] = {
      DataType: value.dataType,
      ...(value.stringValue != null ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue != null ? { BinaryValue: Buffer.from(value.binaryValue, "base64") } : {}),
    };
  }
  return {
    MessageId: record.messageId,
    ReceiptHandle: record.receiptHandle,
    Body: record.body,
    Attributes: record.attributes,
    MessageAttributes: attributes,
  };
}
