import { startZodSuite } from "@aat/core/testing";
import { bundleHandlers } from "../src/bundle.js";

startZodSuite("Lambda", (out) => bundleHandlers(out), new URL("../", import.meta.url));
