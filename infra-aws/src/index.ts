export {
  buildLambdaBundles,
  type LambdaBundles,
  type LambdaCodeCaches,
  lambdaCodeCaches,
} from "./bundles.js";
export { type AwsDeployConfig, checkAwsConfig, loadAwsConfig } from "./config.js";
export { type EnvironmentRefs, functionEnvironment } from "./environment.js";
export { SiteNotBuiltError, siteDist } from "./site-assets.js";
export { AatAwsStack, type AatAwsStackProps } from "./stack.js";
export { type BuildAppOptions, buildApp, cdkJsonContext } from "./synth.js";
