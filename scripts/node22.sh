#!/usr/bin/env bash
# Prints the path of a Node 22 binary (the cloud runtimes' major): the one the build makes the shipped
# code cache with (functions/serverless/runtime-node.json; AAT_NODE22_VERSION another), fetched once from
# the npm registry into ~/.cache/aat by functions/serverless/src/runtime-node.ts. CI points AAT_NODE22 at
# it so the cache's tests prove a hit on the runtime's node, not only on this machine's Node 20.
# Idempotent; needs `npm ci` first (tsx); prints nothing to stdout but the path.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx --input-type=module -e '
import { runtimeNode } from "./functions/serverless/src/runtime-node.ts";
const found = runtimeNode({ arch: process.arch });
if ("unavailable" in found) {
  console.error(`scripts/node22.sh: ${found.unavailable}`);
  process.exit(1);
}
console.log(found.target.node);
'
