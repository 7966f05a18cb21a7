import * as z from "zod/mini";
import { installZodDefaults } from "../../zod-defaults.js";

/**
 * A webhook source's id and how its deliveries authenticate: the parts of a source the configuration
 * validates. Their own module so the configuration does not load the rest of the sources' schemas (a
 * serverless worker's start does not need them). zod/mini, like the configuration; the HTTP API's
 * schemas (sources.ts) build classic copies from the same patterns and messages, because the OpenAPI
 * generator reads classic schemas only.
 */

installZodDefaults();

export const SOURCE_AUTH_MODES = ["hmac", "github", "bearer", "basic", "api_key"] as const;
export type SourceAuthMode = (typeof SOURCE_AUTH_MODES)[number];

export const SOURCE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const SOURCE_ID_FORM =
  "lower-case letters, digits, - and _ (1-63 characters, starting with a letter or digit)";
/** api_key: the header carrying the key (EventBridge API destinations let you name it). */
export const SOURCE_AUTH_HEADER_PATTERN = /^[A-Za-z0-9-]+$/;

export const sourceIdSchema = z.string().check(z.regex(SOURCE_ID_PATTERN, SOURCE_ID_FORM));

export const sourceAuthSchema = z.object({
  mode: z.enum(SOURCE_AUTH_MODES),
  /** api_key: the header carrying the key (EventBridge API destinations let you name it). */
  header: z.optional(z.string().check(z.regex(SOURCE_AUTH_HEADER_PATTERN))),
  /** basic: the user name; the password is the secret. */
  username: z.optional(z.string().check(z.minLength(1))),
});
export type SourceAuth = z.infer<typeof sourceAuthSchema>;
