import { runMain } from "./main-entry.js";

await runMain();
