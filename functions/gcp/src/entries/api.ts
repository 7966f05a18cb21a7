import { registerApiFunction } from "../functions.js";

/** Functions Framework source of the HTTP API (`--target=api`) alone: one bundle per function. */
registerApiFunction();
