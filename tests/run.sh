#!/usr/bin/env bash
# The README's test command: everything CI checks, on a fresh machine too.
# Installs what is missing (clippy/rustfmt, and the interop peers: the
# official @wecom/crypto from npm, wechatpy 1 and 2 and openapi-spec-validator from
# PyPI, and redis-server, chromium and chromium-driver
# from Debian), then runs the
# linters, the docs build and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "cargo is needed: install Rust from https://rustup.rs" >&2
    exit 1
fi
if command -v rustup >/dev/null; then
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo clippy, default features (the ISV core alone, as a user's build has it)"
cargo clippy --lib -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
echo "== Debian packages: redis-server (the Redis store's tests start their own), chromium, chromium-driver and a Chinese font (the browser tests)"
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
# A Chinese font, so that the pages' screenshots show their labels.
[ -d /usr/share/fonts/truetype/wqy ] || missing+=(fonts-wqy-zenhei)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
        # The redis package starts a system-wide server; the tests want only their own.
        (service redis-server stop || true) >/dev/null 2>&1
    else
        echo "needed: ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi
echo "== interop peers (@wecom/crypto from npm, wechatpy and openapi-spec-validator from PyPI)"
bash tests/interop/setup.sh
echo "== cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --all-features --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
