#!/usr/bin/env bash
# Throughput of the official @wecom/crypto on this machine, as a yardstick for
# our own numbers: signature check + decrypt of a 1 KiB message, in a loop, on
# one core (node is single-threaded). Prints one JSON line with ops_per_sec.
#   bash tests/interop/bench.sh [seconds]   (default 5)
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
[ -f "$dir/node_modules/@wecom/crypto/package.json" ] || {
    echo "@wecom/crypto is not installed: run tests/interop/setup.sh" >&2
    exit 1
}
exec node "$dir/wecom_crypto.js" bench "${1:-5}"
