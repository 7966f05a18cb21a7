import { ConfigError, loadConfig } from "@aat/core";
import { z } from "zod";
import { startBridgeRuntime } from "./step-bridge-runtime.js";

/**
 * Entry of the step bridge container (components/eventing/bridge.yaml): the same AAT_* settings as the
 * workers, plus K_SINK, which Knative's ContainerSource sets to the Broker's address.
 */
const sink = z
  .url({
    protocol: /^https?$/,
    error: "K_SINK must be the Broker's http(s) URL; the ContainerSource sets it",
  })
  .safeParse(process.env.K_SINK);
if (!sink.success) {
  process.stderr.write(`aat step bridge: ${sink.error.issues[0]?.message}\n`);
  process.exit(2);
}
let config: ReturnType<typeof loadConfig>["config"];
try {
  config = loadConfig().config;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`aat step bridge cannot start. ${error.message}\n`);
  process.exit(2);
}
const bridge = await startBridgeRuntime({ config, sink: sink.data });
bridge.runtime.logger.info({ sink: sink.data }, "aat step bridge: forwarding step messages to the broker");
let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  bridge.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGTERM", stop);
process.on("SIGINT", stop);
