import { z } from "zod";

/**
 * A webhook source's id and how its deliveries authenticate: the parts of a source the configuration
 * validates. Their own module so the configuration does not load the rest of the sources' schemas (a
 * serverless worker's start does not need them).
 */

export const SOURCE_AUTH_MODES = ["hmac", "github", "bearer", "basic", "api_key"] as const;
export type SourceAuthMode = (typeof SOURCE_AUTH_MODES)[number];

export const sourceIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    "lower-case letters, digits, - and _ (1-63 characters, starting with a letter or digit)",
  );

export const sourceAuthSchema = z.object({
  mode: z.enum(SOURCE_AUTH_MODES),
  /** api_key: the header carrying the key (EventBridge API destinations let you name it). */
  header: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .optional(),
  /** basic: the user name; the password is the secret. */
  username: z.string().min(1).optional(),
});
export type SourceAuth = z.infer<typeof sourceAuthSchema>;
