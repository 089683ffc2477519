#!/usr/bin/env bash
# Installs the peers that tests/interop.rs checks our WXBizMsgCrypt against:
#   - the official npm package @wecom/crypto (pinned in package.json and
#     package-lock.json) into tests/interop/node_modules, and
#   - PyPI's wechatpy with the cryptography backend, into python3's site-packages,
# and the independent validator tests/openapi.rs checks generated/openapi.json
# with: PyPI's openapi-spec-validator (it brings openapi-schema-validator);
# and PyPI's wechatpy 2 (a pre-release), the service-provider client that
# tests/interop/wechatpy2_flow.py drives against the emulator, into its own
# directory tests/interop/.wechatpy2 (run with PYTHONPATH=tests/interop/.wechatpy2)
# so that it does not replace wechatpy 1 above.
# Idempotent and quiet: what is already there is left alone. Any failure stops
# it with a message.
set -euo pipefail
cd "$(dirname "$0")"

WECOM_CRYPTO_VERSION=1.0.1 # also in package.json / package-lock.json
WECHATPY_VERSION=1.8.18
CRYPTOGRAPHY_VERSION=48.0.0
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0 # also in tests/openapi.rs
WECHATPY2_VERSION=2.0.0a26            # also in tests/cli.rs
WECHATPY2_DIR=.wechatpy2              # in .gitignore

die() {
    echo "tests/interop/setup.sh: $*" >&2
    exit 1
}

# --- @wecom/crypto --------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    # A fresh Debian machine without Node: take it from Debian's packages.
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null && apt-get install -y -qq nodejs npm >/dev/null ||
            die "could not install nodejs and npm with apt-get"
    fi
fi
command -v node >/dev/null || die "node is needed (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is needed (Debian: apt-get install npm)"
installed="$(node -p "require('./node_modules/@wecom/crypto/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$WECOM_CRYPTO_VERSION" ]; then
    log="$(mktemp)"
    if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "npm ci failed"
    fi
    rm -f "$log"
    installed="$(node -p "require('./node_modules/@wecom/crypto/package.json').version" 2>/dev/null || true)"
    [ "$installed" = "$WECOM_CRYPTO_VERSION" ] ||
        die "@wecom/crypto $WECOM_CRYPTO_VERSION expected in node_modules, found '${installed:-nothing}'"
fi

# --- wechatpy + cryptography, openapi-spec-validator ----------------------
command -v python3 >/dev/null || die "python3 is needed"
python3 -m pip --version >/dev/null 2>&1 || die "pip is needed for python3 (Debian: apt-get install python3-pip)"
want=()
have_wechatpy="$(python3 -c 'import wechatpy; print(wechatpy.__version__)' 2>/dev/null || true)"
[ "$have_wechatpy" = "$WECHATPY_VERSION" ] || want+=("wechatpy==$WECHATPY_VERSION")
python3 -c 'import cryptography.hazmat.primitives.ciphers' 2>/dev/null || want+=("cryptography==$CRYPTOGRAPHY_VERSION")
have_validator="$(python3 -c 'import importlib.metadata as m; print(m.version("openapi-spec-validator"))' 2>/dev/null || true)"
[ "$have_validator" = "$OPENAPI_SPEC_VALIDATOR_VERSION" ] || want+=("openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION")
if [ "${#want[@]}" -gt 0 ]; then
    pip_args=(--quiet --disable-pip-version-check --no-input)
    # A Debian-managed python3 refuses plain installs (PEP 668).
    if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
        pip_args+=(--break-system-packages)
    fi
    log="$(mktemp)"
    if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install "${pip_args[@]}" "${want[@]}" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "pip install ${want[*]} failed"
    fi
    rm -f "$log"
fi
python3 -c 'from wechatpy.enterprise.crypto import WeChatCrypto; import wechatpy, sys; sys.exit(wechatpy.__version__ != sys.argv[1])' "$WECHATPY_VERSION" ||
    die "wechatpy $WECHATPY_VERSION with a crypto backend is not importable after installing"
python3 -c 'import openapi_spec_validator, openapi_schema_validator, importlib.metadata as m, sys; sys.exit(m.version("openapi-spec-validator") != sys.argv[1])' "$OPENAPI_SPEC_VALIDATOR_VERSION" ||
    die "openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION is not importable after installing"

# --- wechatpy 2, in its own directory -------------------------------------
# What `import wechatpy` finds with PYTHONPATH=.wechatpy2, and its version.
wechatpy2_check='import importlib.metadata as m, os, sys, wechatpy
sys.exit(m.version("wechatpy") != sys.argv[1] or not wechatpy.__file__.startswith(os.path.abspath(sys.argv[2])))'
if ! PYTHONPATH="$WECHATPY2_DIR" python3 -c "$wechatpy2_check" "$WECHATPY2_VERSION" "$WECHATPY2_DIR" 2>/dev/null; then
    log="$(mktemp)"
    # --target installs wechatpy 2 and its dependencies into the directory
    # only; --upgrade replaces what an earlier, partial install left there.
    if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-input \
        --upgrade --target "$WECHATPY2_DIR" "wechatpy==$WECHATPY2_VERSION" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "pip install --target $WECHATPY2_DIR wechatpy==$WECHATPY2_VERSION failed"
    fi
    rm -f "$log"
fi
PYTHONPATH="$WECHATPY2_DIR" python3 -c "from wechatpy.work.services import WeChatServiceClient
from wechatpy.work.client import WeChatClient
$wechatpy2_check" "$WECHATPY2_VERSION" "$WECHATPY2_DIR" ||
    die "wechatpy $WECHATPY2_VERSION is not importable from tests/interop/$WECHATPY2_DIR after installing"
