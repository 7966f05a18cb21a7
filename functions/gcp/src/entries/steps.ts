import { registerStepsFunction } from "../functions.js";

/** Functions Framework source of the Pub/Sub push trigger (`--target=steps`) alone: one bundle per function. */
registerStepsFunction();
