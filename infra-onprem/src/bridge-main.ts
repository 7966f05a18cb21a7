import { loadConfig } from "@aat/core";
import { createLogger, openStores } from "@aat/functions-node";
import { z } from "zod";
import { runBridge } from "./bridge.js";

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
const { config } = loadConfig();
const logger = createLogger(config);
const stores = await openStores(config, { role: "bridge" });
const bridge = runBridge({ queue: stores.queue, sink: sink.data, logger });
logger.info({ sink: sink.data, storage: stores.description }, "aat step bridge started");
const stop = async () => {
  await bridge.stop();
  await stores.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
