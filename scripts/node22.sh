#!/usr/bin/env bash
# Prints the path of a Node 22 binary (the cloud runtimes' major), fetching it once from the npm
# registry (the node-<platform>-<arch> package, no install scripts) into a cache folder. CI points
# AAT_NODE22 at it so the shipped compile cache's test proves a hit on the runtime's node, not only on
# this machine's Node 20. Idempotent; prints nothing to stdout but the path. The version is the one the
# build makes the shipped code cache with (functions/serverless/runtime-node.json; runtime-node.ts fetches
# into the same folder).
set -euo pipefail
PINNED="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$(dirname "$0")/../functions/serverless/runtime-node.json")"
VERSION="${AAT_NODE22_VERSION:-$PINNED}"
PACKAGE="node-$(node -p 'process.platform + "-" + process.arch')"
DIR="${AAT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aat}/$PACKAGE-$VERSION"
BIN="$DIR/package/bin/node"
if [ ! -x "$BIN" ] || ! "$BIN" --version >/dev/null 2>&1; then
  rm -rf "$DIR" && mkdir -p "$DIR"
  (cd "$DIR" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null && tar xzf ./*.tgz && rm ./*.tgz) >&2
fi
echo "$BIN"
