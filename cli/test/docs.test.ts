import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderCliDocs } from "../src/help-docs.js";

describe("docs/cli.md", () => {
  it("is the commands' current help (run `npm run docs:cli` when this fails)", async () => {
    const committed = await readFile(fileURLToPath(new URL("../../docs/cli.md", import.meta.url)), "utf8");
    expect(committed, "docs/cli.md is stale: run `npm run docs:cli` and commit it").toBe(renderCliDocs());
  });
});
