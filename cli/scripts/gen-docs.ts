/** `npm run docs:cli`: writes docs/cli.md from the commands' own help. */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { renderCliDocs } from "../src/help-docs.js";

const target = fileURLToPath(new URL("../../docs/cli.md", import.meta.url));
await writeFile(target, renderCliDocs());
console.log(`wrote ${target}`);
