import { z } from "zod";
import { apiKeyInfoSchema } from "./api-key-records.js";
import { roleSchema } from "./roles.js";

export const createApiKeyRequestSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).describe("What the key is for, e.g. 'ci pipeline'."),
    roles: z.array(roleSchema).min(1, "give at least one role").describe("Roles the key grants."),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("When the key stops working (ISO 8601); never when absent."),
  })
  .meta({ id: "CreateApiKeyRequest" });

export type CreateApiKeyRequest = z.infer<typeof createApiKeyRequestSchema>;

export const createdApiKeyResponseSchema = z
  .object({
    id: z.string(),
    key: z.string().describe("The full API key. Shown only in this response: store it now."),
    record: apiKeyInfoSchema,
  })
  .meta({ id: "CreatedApiKey" });

export const apiKeyListResponseSchema = z
  .object({ keys: z.array(apiKeyInfoSchema) })
  .meta({ id: "ApiKeyList" });

export const apiKeyIdParamsSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .describe("The key id (the part of the key between 'aat_' and the next '_')."),
});

/** DELETE /v1/keys/:id answers with the revoked key's metadata. */
export const revokedApiKeyResponseSchema = apiKeyInfoSchema;
