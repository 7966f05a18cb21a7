import { readFileSync } from "node:fs";
import { extract } from "../src/extract.js";
import { defaultLanguages } from "../src/languages/registry.js";

const reg = defaultLanguages();
for (const f of process.argv.slice(2)) {
  const lang = reg.forPath(f)!;
  const r = await extract(lang, readFileSync(f, "utf8"));
  console.log("==", f);
  for (const s of r.symbols)
    console.log(
      `  ["${s.name}", "${s.kind}", ${s.container ? `"${s.container}"` : "undefined"}, ${s.range.startLine}, ${s.range.endLine}],`,
    );
  console.log("  refs:", r.references.map((x) => `${x.name}@${x.line}`).join(" "));
}
