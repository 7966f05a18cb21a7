import { SdkCommandClient } from "@aat/adapter-aws-json";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import type { SqsMessageAttributeValue } from "./wire.js";

/**
 * The operations the adapter calls, to the SDK's command classes. Named one by one (no
 * `import * as`), so a bundle keeps only these commands.
 */
const COMMANDS = {
  ChangeMessageVisibility: ChangeMessageVisibilityCommand,
  CreateQueue: CreateQueueCommand,
  DeleteMessage: DeleteMessageCommand,
  DeleteQueue: DeleteQueueCommand,
  GetQueueAttributes: GetQueueAttributesCommand,
  GetQueueUrl: GetQueueUrlCommand,
  ReceiveMessage: ReceiveMessageCommand,
  SendMessage: SendMessageCommand,
  SetQueueAttributes: SetQueueAttributesCommand,
} as const;

/**
 * An AwsJsonClient on the AWS SDK's SQSClient: the SDK's provider chain finds credentials (instance and
 * container roles, SSO, profiles) and its endpoint resolution honours FIPS and dual-stack settings.
 * Inputs and outputs are in the JSON protocol's shape, as AwsJsonRestClient's: binary attribute values
 * are base64 text here and bytes in the SDK, so they are converted both ways; the SDK's `$metadata` is
 * dropped from outputs.
 */
export class SqsSdkJsonClient extends SdkCommandClient {
  constructor(sdk: SQSClient, owned: boolean) {
    super(sdk, COMMANDS, owned, "SqsQueue");
  }

  override async call<O = Record<string, unknown>>(operation: string, input: object): Promise<O> {
    const output = await super.call(operation, operation === "SendMessage" ? sdkSendInput(input) : input);
    return (operation === "ReceiveMessage" ? wireReceiveOutput(output) : output) as O;
  }
}

/** An SDK client for these connection options, owned by the returned AwsJsonClient. */
export function sdkJsonClient(options: {
  region?: string | undefined;
  endpoint?: string | undefined;
  credentials?:
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }
    | undefined;
}): SqsSdkJsonClient {
  const config: SQSClientConfig = {};
  if (options.region) config.region = options.region;
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) {
    const { accessKeyId, secretAccessKey, sessionToken } = options.credentials;
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  return new SqsSdkJsonClient(new SQSClient(config), true);
}

/** A caller's SQSClient, left open on destroy(). */
export function wrapSdkClient(sdk: SQSClient): SqsSdkJsonClient {
  return new SqsSdkJsonClient(sdk, false);
}

type Attributes<V> = Record<string, V> | undefined;

function mapAttributes<A, B>(attributes: Attributes<A>, convert: (value: A) => B): Attributes<B> {
  if (!attributes) return attributes;
  return Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, convert(value)]));
}

/** base64 text → bytes in SendMessage's message (and system) attributes. */
function sdkSendInput(input: object): object {
  const toSdk = (value: SqsMessageAttributeValue): MessageAttributeValue => {
    const { BinaryValue, ...rest } = value;
    return BinaryValue === undefined ? rest : { ...rest, BinaryValue: Buffer.from(BinaryValue, "base64") };
  };
  const send = input as {
    MessageAttributes?: Record<string, SqsMessageAttributeValue>;
    MessageSystemAttributes?: Record<string, SqsMessageAttributeValue>;
  };
  return {
    ...input,
    ...(send.MessageAttributes ? { MessageAttributes: mapAttributes(send.MessageAttributes, toSdk) } : {}),
    ...(send.MessageSystemAttributes
      ? { MessageSystemAttributes: mapAttributes(send.MessageSystemAttributes, toSdk) }
      : {}),
  };
}

/** Bytes → base64 text in ReceiveMessage's message attributes. */
function wireReceiveOutput(output: Record<string, unknown>): Record<string, unknown> {
  const messages = output.Messages as Array<{ MessageAttributes?: Record<string, MessageAttributeValue> }>;
  if (!messages) return output;
  const toWire = (value: MessageAttributeValue): SqsMessageAttributeValue => {
    const { BinaryValue, BinaryListValues: _binaryList, StringListValues: _stringList, ...rest } = value;
    return {
      ...(rest as SqsMessageAttributeValue),
      ...(BinaryValue !== undefined ? { BinaryValue: Buffer.from(BinaryValue).toString("base64") } : {}),
    };
  };
  return {
    ...output,
    Messages: messages.map((message) =>
      message.MessageAttributes
        ? { ...message, MessageAttributes: mapAttributes(message.MessageAttributes, toWire) }
        : message,
    ),
  };
}
