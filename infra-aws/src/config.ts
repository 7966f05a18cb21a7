import {
  type AwsDeploy,
  type DeployConfig,
  DeployConfigError,
  deployConfigPath,
  environmentProblems,
  forTarget,
  loadDeployConfig,
} from "@aat/infra-config";
import { STACK_ENV } from "./environment.js";

export type AwsDeployConfig = DeployConfig & { aws: AwsDeploy };

/**
 * The deploy configuration with its `aws` section, plus the checks only the AWS app needs (a CloudFront
 * custom domain needs an ACM certificate). Every problem is a DeployConfigError naming the key and why.
 */
export function loadAwsConfig(file: string = deployConfigPath()): AwsDeployConfig {
  return checkAwsConfig(forTarget(loadDeployConfig(file), "aws", file), file);
}

export function checkAwsConfig(config: AwsDeployConfig, file: string = deployConfigPath()): AwsDeployConfig {
  if (config.domain && config.site && !config.aws.certificateArn) {
    throw new DeployConfigError(file, [
      {
        key: "aws.certificateArn",
        problem: `required with domain ${config.domain}: CloudFront serves a custom domain only with an ACM certificate issued in us-east-1 (arn:aws:acm:us-east-1:…)`,
      },
    ]);
  }
  if (config.aws.certificateArn && !config.aws.certificateArn.startsWith("arn:aws:acm:us-east-1:")) {
    throw new DeployConfigError(file, [
      {
        key: "aws.certificateArn",
        problem: "CloudFront accepts only certificates from us-east-1; request or import it there",
      },
    ]);
  }
  const refused = environmentProblems("aws", config.aws.environment, STACK_ENV);
  if (refused.length > 0) throw new DeployConfigError(file, refused);
  if (config.sizes.worker.timeoutSeconds > config.aws.queue.visibilityTimeoutSeconds) {
    throw new DeployConfigError(file, [
      {
        key: "aws.queue.visibilityTimeoutSeconds",
        problem: `${config.aws.queue.visibilityTimeoutSeconds} s is less than sizes.worker.timeoutSeconds (${config.sizes.worker.timeoutSeconds} s); Lambda refuses an SQS trigger whose visibility timeout is shorter than the function timeout`,
      },
    ]);
  }
  return config;
}
