/** `npm run sdk:generate`: writes src/generated/openapi.ts from the API's OpenAPI document. */
import { writeFile } from "node:fs/promises";
import { GENERATED_FILE, renderOpenApiTypes } from "./spec.js";

await writeFile(GENERATED_FILE, await renderOpenApiTypes());
console.log(`wrote ${GENERATED_FILE}`);
