import type { SqsQueueOptions } from "./options.js";

/** Core's `queue.sqs` settings (docs/configuration.md), as a runtime has them once the kind is sqs. */
export interface SqsSettings {
  queueUrl: string;
  region?: string | undefined;
  endpoint?: string | undefined;
  fifo: boolean;
  visibilityTimeoutMs?: number | undefined;
  claimCheckBucket?: string | undefined;
  claimCheckPrefix?: string | undefined;
  provision: boolean;
  /** How to speak to SQS (default "auto": REST without the SDK when credentials and a region are in the environment). */
  transport?: "auto" | "sdk" | "rest" | undefined;
}

/**
 * `SqsQueue.connect` options from the configuration, for every runtime that opens the step queue (AWS
 * Lambda, the node runtime): the caller adds the queue name it takes from the URL, `kv` and anything of
 * its own.
 */
export function sqsOptionsFromSettings(settings: SqsSettings): Omit<SqsQueueOptions, "name"> {
  const {
    queueUrl,
    region,
    endpoint,
    fifo,
    visibilityTimeoutMs,
    claimCheckBucket,
    claimCheckPrefix,
    transport,
  } = settings;
  return {
    fifo,
    // A deployed queue is opened as it is (one call); otherwise created with its dead-letter queue.
    ...(settings.provision ? {} : { provision: false, queueUrl }),
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(transport ? { transport } : {}),
    ...(visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs } : {}),
    // Step messages over 256 KiB travel through S3 when a bucket is configured (refused otherwise).
    ...(claimCheckBucket
      ? {
          claimCheck: { bucket: claimCheckBucket, ...(claimCheckPrefix ? { prefix: claimCheckPrefix } : {}) },
        }
      : {}),
  };
}
