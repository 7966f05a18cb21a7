#!/usr/bin/env bash
# qemu user mode and the arm64 C libraries (Debian packages), so that an x64 machine runs the arm64 Node
# that makes the V8 code cache of infra-aws's Graviton functions (functions/serverless/src/runtime-node.ts;
# V8 refuses a cache made on another arch). CI runs it before the tests, which prove that cache accepted.
# Idempotent; nothing to do on an arm64 machine.
set -euo pipefail
[ "$(uname -m)" = "x86_64" ] || exit 0
if command -v qemu-aarch64-static >/dev/null && [ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get install -y --no-install-recommends \
  qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross >&2
