import { z } from "zod";

/** Static credentials: what Lambda puts in every function's environment (its execution role's). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * The credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), or
 * undefined when they are not both set: then only the SDK's provider chain (instance or container role,
 * SSO, profiles) can find them, and the SDK transport is used.
 */
export function credentialsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** Static credentials as an adapter's options take them (validated at the adapters' boundary). */
export const awsCredentialsSchema = z.object({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
});
