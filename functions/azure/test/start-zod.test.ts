import { startZodSuite } from "@aat/core/testing";
import { bundleHandlers } from "../src/bundle.js";

startZodSuite("Azure Functions", (out) => bundleHandlers(out), new URL("../", import.meta.url));
