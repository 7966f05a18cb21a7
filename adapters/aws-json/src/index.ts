export { type AwsJsonClient, AwsServiceError, isAwsError } from "./client.js";
export { type AwsCredentials, awsCredentialsSchema, credentialsFromEnv } from "./credentials.js";
export {
  AwsJsonRestClient,
  type AwsJsonRestOptions,
  type AwsJsonService,
  defaultEndpoint,
  type HttpSend,
} from "./rest-client.js";
export { type SdkClient, type SdkCommand, SdkCommandClient } from "./sdk-command-client.js";
export {
  type AwsConnectionOptions,
  type AwsTransport,
  chooseAwsTransport,
  type RestConnection,
  type TransportChoice,
} from "./transport.js";
