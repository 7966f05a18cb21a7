import { fileURLToPath } from "node:url";
import { startTestRuntime as startRuntime, type TestRuntime } from "@aat/functions-node/testing";

export type { TestRuntime };

export const FIXTURE_PLANS = fileURLToPath(new URL("./fixtures/plans", import.meta.url));
export const SHIPPED_PLANS = fileURLToPath(new URL("../../plans", import.meta.url));

/** The real Node runtime in this process (see @aat/functions-node/testing). */
export function startTestRuntime(plans: string[] = [SHIPPED_PLANS, FIXTURE_PLANS]): Promise<TestRuntime> {
  return startRuntime({ plans, prefix: "aat-sdk-test-" });
}
