import type { ModelProviderConfig, ModelProviderFactories, ModelProviderFactory } from "@aat/core";
import { createAmazonBedrock } from "@ai-sdk/amazon-bedrock";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createAzure } from "@ai-sdk/azure";
import { createVertex } from "@ai-sdk/google-vertex";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModelV3 } from "@ai-sdk/provider";
import { defaultSettingsMiddleware, wrapLanguageModel } from "ai";

type Env = Readonly<Record<string, string | undefined>>;

export interface ModelProviderOptions {
  /** fetch used by every provider: a proxy-aware fetch in production, a recording one in tests. */
  fetch?: typeof globalThis.fetch;
  /** Where provider variables (OPENAI_API_KEY, AWS_REGION, …) are read for early checks. Default: process.env. */
  env?: Env;
  /** Bedrock: credentials other than a Bedrock API key or AWS_* variables, e.g. `fromNodeProviderChain()`. */
  bedrockCredentialProvider?: () => PromiseLike<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }>;
  /** Vertex: Google auth settings (credentials, an auth client) instead of Application Default Credentials. */
  vertexGoogleAuthOptions?: NonNullable<Parameters<typeof createVertex>[0]>["googleAuthOptions"];
}

/** A configuration problem found while building an alias; the message says which setting to set. */
export class ModelProviderSetupError extends Error {
  override readonly name = "ModelProviderSetupError";
}

const envOf = (alias: string, field: string) => `AAT_MODEL_${alias.toUpperCase()}_${field}`;

function required(value: string | undefined, problem: string): string {
  if (value === undefined || value.trim() === "") throw new ModelProviderSetupError(problem);
  return value;
}

function modelId(alias: string, config: ModelProviderConfig): string {
  return required(
    config.model,
    `model is missing: set models.providers.${alias}.model (${envOf(alias, "MODEL")})`,
  );
}

function apiKeyOrEnv(alias: string, config: ModelProviderConfig, env: Env, variable: string): string {
  return required(
    config.apiKey ?? env[variable],
    `no API key: set models.providers.${alias}.apiKey (${envOf(alias, "API_KEY")}) or ${variable}`,
  );
}

/**
 * OpenAI's strict structured outputs reject schemas with optional properties, which plans use freely;
 * the agent step validates (and repairs) the output against the schema itself, so strict mode is off.
 */
function lenientJsonSchema(model: LanguageModelV3): LanguageModelV3 {
  return wrapLanguageModel({
    model,
    middleware: defaultSettingsMiddleware({
      settings: { providerOptions: { openai: { strictJsonSchema: false } } },
    }),
  });
}

/**
 * Factories that turn one configured alias into an AI SDK language model. Chat Completions is used for
 * openai and azure (not the Responses API) so that every OpenAI-shaped endpoint behaves the same.
 * Required settings are checked here, so a missing key or region fails at start-up, not at the first call.
 */
export function aiSdkProviderFactories(options: ModelProviderOptions = {}): ModelProviderFactories {
  const env: Env = options.env ?? process.env;
  const fetch = options.fetch ? { fetch: options.fetch } : {};

  const openai: ModelProviderFactory = (alias, config) =>
    lenientJsonSchema(
      createOpenAI({
        apiKey: apiKeyOrEnv(alias, config, env, "OPENAI_API_KEY"),
        ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
        ...fetch,
      }).chat(modelId(alias, config)),
    );

  const anthropic: ModelProviderFactory = (alias, config) =>
    createAnthropic({
      apiKey: apiKeyOrEnv(alias, config, env, "ANTHROPIC_API_KEY"),
      ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
      ...fetch,
    })(modelId(alias, config));

  const openaiCompatible: ModelProviderFactory = (alias, config) =>
    createOpenAICompatible({
      name: alias,
      baseURL: required(
        config.baseUrl,
        `baseUrl is missing: set models.providers.${alias}.baseUrl (${envOf(alias, "BASE_URL")}), e.g. http://127.0.0.1:11434/v1 for Ollama`,
      ),
      // Local servers (Ollama, LM Studio, vLLM) usually need no key.
      ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      includeUsage: true,
      ...fetch,
    }).chatModel(modelId(alias, config));

  const azure: ModelProviderFactory = (alias, config) =>
    lenientJsonSchema(
      createAzure({
        baseURL: required(
          config.baseUrl,
          `baseUrl is missing: set models.providers.${alias}.baseUrl (${envOf(alias, "BASE_URL")}) to https://<resource>.openai.azure.com/openai`,
        ),
        apiKey: apiKeyOrEnv(alias, config, env, "AZURE_API_KEY"),
        ...fetch,
      }).chat(modelId(alias, config)),
    );

  const bedrock: ModelProviderFactory = (alias, config) => {
    const region = required(
      config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      `region is missing: set models.providers.${alias}.region (${envOf(alias, "REGION")}) or AWS_REGION`,
    );
    const apiKey = config.apiKey ?? env.AWS_BEARER_TOKEN_BEDROCK;
    if (
      !apiKey &&
      !options.bedrockCredentialProvider &&
      !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
    ) {
      throw new ModelProviderSetupError(
        `no AWS credentials: set models.providers.${alias}.apiKey (${envOf(alias, "API_KEY")}, a Bedrock API key), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them), or pass bedrockCredentialProvider`,
      );
    }
    return createAmazonBedrock({
      region,
      ...(apiKey ? { apiKey } : {}),
      ...(options.bedrockCredentialProvider ? { credentialProvider: options.bedrockCredentialProvider } : {}),
      ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
      ...fetch,
    })(modelId(alias, config));
  };

  const vertex: ModelProviderFactory = (alias, config) => {
    const apiKey = config.apiKey ?? env.GOOGLE_VERTEX_API_KEY;
    // Express mode (an API key) needs neither project nor location; service accounts need both.
    const project = apiKey
      ? config.project
      : required(
          config.project ?? env.GOOGLE_VERTEX_PROJECT ?? env.GOOGLE_CLOUD_PROJECT,
          `project is missing: set models.providers.${alias}.project (${envOf(alias, "PROJECT")}) or GOOGLE_VERTEX_PROJECT`,
        );
    const location = apiKey
      ? config.region
      : required(
          config.region ?? env.GOOGLE_VERTEX_LOCATION,
          `location is missing: set models.providers.${alias}.region (${envOf(alias, "REGION")}) or GOOGLE_VERTEX_LOCATION, e.g. europe-west4`,
        );
    return createVertex({
      ...(apiKey ? { apiKey } : {}),
      ...(project ? { project } : {}),
      ...(location ? { location } : {}),
      ...(config.baseUrl ? { baseURL: config.baseUrl } : {}),
      ...(options.vertexGoogleAuthOptions ? { googleAuthOptions: options.vertexGoogleAuthOptions } : {}),
      ...fetch,
    })(modelId(alias, config));
  };

  return {
    openai,
    anthropic,
    "openai-compatible": openaiCompatible,
    azure,
    "amazon-bedrock": bedrock,
    "google-vertex": vertex,
  };
}
