export { EnvSecrets, type Secrets, secretEnvName } from "./secrets.js";
