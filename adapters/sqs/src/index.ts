export { type SqsSettings, sqsOptionsFromSettings } from "./from-config.js";
export { lambdaRecordToMessage, type SqsLambdaRecord, sqsLambdaRecordSchema } from "./lambda-record.js";
export type { SqsQueueDestroyOptions, SqsQueueOptions } from "./options.js";
export { MAX_MESSAGE_BYTES, MAX_NATIVE_DELAY_MS, MAX_VISIBILITY_MS, SqsQueue } from "./sqs-queue.js";
