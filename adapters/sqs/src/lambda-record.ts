import { installZodDefaults } from "@aat/core/zod-defaults";
import * as z from "zod/mini";
import type { SqsMessage } from "./wire.js";

// zod/mini sets no locale: without English, every issue would read "Invalid input".
installZodDefaults();

/**
 * One record of an SQS event as Lambda's event source mapping delivers it (the fields the adapter reads;
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html). Its own module without the AWS SDK, so a
 * handler can check records before the SDK is loaded: `@aat/adapter-sqs/lambda`.
 */
export const sqsLambdaRecordSchema = z.object({
  messageId: z.string().check(z.minLength(1)),
  receiptHandle: z.string().check(z.minLength(1)),
  body: z.string(),
  attributes: z._default(z.record(z.string(), z.string()), {}),
  messageAttributes: z._default(
    z.record(
      z.string(),
      z.object({
        dataType: z.string(),
        stringValue: z.nullish(z.string()),
        /** Base64, as Lambda encodes binary attribute values. */
        binaryValue: z.nullish(z.string()),
      }),
    ),
    {},
  ),
  eventSourceARN: z.optional(z.string()),
});

/** A Lambda SQS event record, checked by sqsLambdaRecordSchema. */
export type SqsLambdaRecord = z.output<typeof sqsLambdaRecordSchema>;

/**
 * The record in the shape of a ReceiveMessage result in SQS's JSON protocol (camelCase fields to
 * PascalCase; binary values stay base64, as the protocol carries them): what SqsQueue decodes for its
 * own receives, whichever transport made them.
 */
export function lambdaRecordToMessage(record: SqsLambdaRecord): SqsMessage {
  const attributes: NonNullable<SqsMessage["MessageAttributes"]> = {};
  for (const [name, value] of Object.entries(record.messageAttributes)) {
    attributes[name] = {
      DataType: value.dataType,
      ...(value.stringValue != null ? { StringValue: value.stringValue } : {}),
      ...(value.binaryValue != null ? { BinaryValue: value.binaryValue } : {}),
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
