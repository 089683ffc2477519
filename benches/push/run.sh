#!/usr/bin/env bash
# Sustained push benchmark: `wecom-openwork serve` against a Node server on
# the official @wecom/crypto (benches/push/node_server.js), both driven by wrk
# with the very same corpus of distinct, sealed command-URL pushes. See
# benches/push/README.md for what is measured and how to quote it.
#
#   bash benches/push/run.sh [--pushes N] [--fill N] [--duration S]
#                            [--connections C] [--store sqlite|memory]
#
#   --pushes N       pushes in the corpus (default FILL + 45,000 per second
#                    of DURATION: 1,010,000). Given without --duration, the
#                    measured phase sends the whole rest of the corpus.
#   --fill N         pushes sent first, unmeasured, to fill serve's replay
#                    window (default 110,000)
#   --duration S     the measured phase's limit in seconds (default 20; 0:
#                    none, the rest of the corpus); it also ends when the
#                    corpus does
#   --connections C  wrk's connections (default 64; one wrk thread)
#   --store KIND     serve's store: sqlite (default, a file in the temp dir)
#                    or memory
#
# Installs what is missing (Debian's wrk; @wecom/crypto through
# tests/interop/setup.sh), builds serve in release (WECOM_OPENWORK_BIN=PATH
# uses that binary instead), writes the configuration and serve's store to a
# temporary directory (TMPDIR) and the corpus to /dev/shm when it fits
# (CORPUS_DIR=DIR to choose), and removes them, and stops both servers, on
# any exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

die() {
    echo "benches/push/run.sh: $*" >&2
    exit 1
}

# --- options ----------------------------------------------------------------
PUSHES=""
FILL=110000
DURATION=""
CONNECTIONS=64
STORE=sqlite
while [ $# -gt 0 ]; do
    case "$1" in
    --pushes) PUSHES="${2:-}"; shift 2 ;;
    --fill) FILL="${2:-}"; shift 2 ;;
    --duration) DURATION="${2:-}"; shift 2 ;;
    --connections) CONNECTIONS="${2:-}"; shift 2 ;;
    --store) STORE="${2:-}"; shift 2 ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done
is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_count "$FILL" || die "--fill takes a number"
is_count "$CONNECTIONS" && [ "$CONNECTIONS" -ge 1 ] || die "--connections takes a number >= 1"
[ -z "$DURATION" ] || is_count "$DURATION" || die "--duration takes whole seconds"
[ -z "$PUSHES" ] || is_count "$PUSHES" || die "--pushes takes a number"
case "$STORE" in sqlite | memory) ;; *) die "--store is sqlite or memory" ;; esac
if [ -z "$PUSHES" ]; then
    DURATION="${DURATION:-20}"
    if [ "$DURATION" -eq 0 ]; then
        die "--duration 0 (the rest of the corpus) needs --pushes"
    fi
    PUSHES=$((FILL + 45000 * DURATION))
else
    DURATION="${DURATION:-0}"
fi
MEASURED=$((PUSHES - FILL))
[ "$MEASURED" -ge 1 ] || die "--pushes ($PUSHES) must exceed --fill ($FILL)"

SUITE=wwsuitebench0001
CORP=wwcorpbench0001
TOKEN=SuiteBenchToken
AES_KEY=6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt
# About 1.03 KB a line (a create_user event of ~560 bytes, sealed).
LINE_BYTES=1100
# wrk's own timeout: answers slower than it are counted as timeouts, not
# latencies (serve answers 503 after its request_timeout, 30 s).
WRK_TIMEOUT=60s
FILL_CAP=1800 # seconds: the fill ends on its last answer, or here

started_at=$(date +%s)

# --- what is missing ----------------------------------------------------------
if ! command -v wrk >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "== installing wrk (Debian)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null || die "apt-get install wrk failed"
    else
        die "wrk is needed (Debian: apt-get install wrk)"
    fi
fi
if ! node -e "require('./tests/interop/node_modules/@wecom/crypto')" >/dev/null 2>&1; then
    echo "== installing @wecom/crypto (tests/interop/setup.sh)"
    bash tests/interop/setup.sh
fi
if [ -n "${WECOM_OPENWORK_BIN:-}" ]; then
    BIN="$WECOM_OPENWORK_BIN"
else
    echo "== cargo build --release --features cli --bin wecom-openwork"
    cargo build --release --features cli --bin wecom-openwork
    BIN="${CARGO_TARGET_DIR:-target}/release/wecom-openwork"
fi
[ -x "$BIN" ] || die "no serve binary at $BIN"

# --- temp dirs, and the one cleanup --------------------------------------------
# serve's state and the logs in TMPDIR (a disk, as in production); the corpus
# in RAM (/dev/shm) when it fits there, so that reading it costs wrk no disk
# I/O, else beside the rest. CORPUS_DIR=DIR puts it in DIR.
tmp="$(mktemp -d "${TMPDIR:-/tmp}/wecom-push-bench.XXXXXX")"
corpus_dir=""
server_pid=""
wrk_pid=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null || true
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    rm -rf "$tmp"
    [ -z "$corpus_dir" ] || rm -rf "$corpus_dir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_bytes() { echo $(($(df -Pk "$1" | awk 'NR == 2 { print $4 }') * 1024)); }
# Written as two halves, then joined: 1.5 times the corpus at the peak.
need=$((PUSHES * LINE_BYTES * 3 / 2 + 100 * 1024 * 1024))
if [ -n "${CORPUS_DIR:-}" ]; then
    corpus_dir="$(mktemp -d "$CORPUS_DIR/wecom-push-corpus.XXXXXX")"
elif [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(free_bytes /dev/shm)" -ge $((need * 2)) ]; then
    corpus_dir="$(mktemp -d /dev/shm/wecom-push-corpus.XXXXXX)"
else
    corpus_dir="$(mktemp -d "$tmp/corpus.XXXXXX")"
fi
avail=$(free_bytes "$corpus_dir")
[ "$avail" -ge "$need" ] ||
    die "the corpus needs about $((need / 1048576)) MiB in $corpus_dir, $((avail / 1048576)) MiB free (set CORPUS_DIR elsewhere, or lower --pushes)"

# --- the corpus -----------------------------------------------------------------
# One timestamp for every push, 280 s ahead: serve accepts a push within
# 300 s of its clock, so from now until ~580 s from now.
corpus="$corpus_dir/corpus.txt"
timestamp=$(($(date +%s) + 280))
echo "== corpus: $PUSHES distinct pushes (@wecom/crypto encrypt + getSignature), timestamp $timestamp"
t0=$(date +%s.%N)
half=$((PUSHES / 2))
node benches/push/corpus.js "$corpus.0" "$half" "$TOKEN" "$AES_KEY" "$SUITE" "$CORP" "$timestamp" 0 &
gen0=$!
node benches/push/corpus.js "$corpus.1" "$((PUSHES - half))" "$TOKEN" "$AES_KEY" "$SUITE" "$CORP" "$timestamp" "$half" &
gen1=$!
wait "$gen0" || die "corpus.js failed"
wait "$gen1" || die "corpus.js failed"
cat "$corpus.0" >"$corpus"
rm -f "$corpus.0"
cat "$corpus.1" >>"$corpus"
rm -f "$corpus.1"
t1=$(date +%s.%N)
echo "   $(wc -l <"$corpus") lines, $(($(stat -c %s "$corpus") / 1048576)) MiB, in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

# --- helpers --------------------------------------------------------------------
# VmRSS or VmHWM of a process, in MiB.
mem_mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
# CPU ticks (user + system) a process used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU ticks of this script's children that it has waited for (wrk, once
# waited for: the difference around one run is that run's).
children_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
# CPU ticks the whole machine was busy (every core), and the ticks a
# hypervisor gave to others (steal).
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
steal_ticks() { awk '$1 == "cpu" { print $9 + 0 }' /proc/stat; }
TICKS=$(getconf CLK_TCK)
percent() { awk -v d="$1" -v t="$TICKS" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? 100 * d / t / s : 0) }'; }

# Waits for a server's `… http://127.0.0.1:PORT…` line on stdout; prints the base URL.
wait_url() {
    local out="$1" pattern="$2" pid="$3" url=""
    for _ in $(seq 600); do
        url=$(sed -n "s|.*${pattern}\(http://127\.0\.0\.1:[0-9]*\).*|\1|p" "$out" | head -1)
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$url"
}

# run_phase SERVER PHASE URL SKIP COUNT CAP: one wrk run; its PUSH_RESULT
# line's fields become R_<server>_<phase>_<field> variables.
run_phase() {
    local server="$1" phase="$2" url="$3" skip="$4" count="$5" cap="$6"
    local log="$tmp/$server.$phase.wrk" before after wrk_before wrk_after busy_before busy_after steal_before steal_after
    before=$(cpu_ticks "$server_pid")
    wrk_before=$(children_ticks)
    busy_before=$(busy_ticks)
    steal_before=$(steal_ticks)
    local wall_before wall_after
    wall_before=$(date +%s.%N)
    wrk -t1 -c"$CONNECTIONS" -d"${cap}s" --timeout "$WRK_TIMEOUT" -s benches/push/push.lua "$url" \
        -- "$corpus" "$SUITE" "$skip" "$count" >"$log" 2>&1 &
    wrk_pid=$!
    wait "$wrk_pid" || true
    wrk_pid=""
    after=$(cpu_ticks "$server_pid")
    wrk_after=$(children_ticks)
    busy_after=$(busy_ticks)
    steal_after=$(steal_ticks)
    wall_after=$(date +%s.%N)
    local wall
    wall=$(awk -v a="$wall_before" -v b="$wall_after" 'BEGIN { print b - a }')
    local result
    result=$(grep '^PUSH_RESULT ' "$log" | head -1 || true)
    if [ -z "$result" ]; then
        cat "$log" >&2
        die "wrk printed no result for $server $phase"
    fi
    local kv key
    for kv in ${result#PUSH_RESULT }; do
        key="${kv%%=*}"
        printf -v "R_${server}_${phase}_${key}" '%s' "${kv#*=}"
    done
    local seconds_var="R_${server}_${phase}_seconds"
    local server_cpu=$((after - before)) wrk_cpu=$((wrk_after - wrk_before))
    # The rest: other processes (a build?) competing for the cores.
    local other_cpu=$((busy_after - busy_before - server_cpu - wrk_cpu))
    [ "$other_cpu" -ge 0 ] || other_cpu=0
    printf -v "R_${server}_${phase}_cpu" '%s' "$(percent "$server_cpu" "$wall")"
    printf -v "R_${server}_${phase}_wrk_cpu" '%s' "$(percent "$wrk_cpu" "$wall")"
    printf -v "R_${server}_${phase}_other_cpu" '%s' "$(percent "$other_cpu" "$wall")"
    printf -v "R_${server}_${phase}_steal" '%s' "$(percent "$((steal_after - steal_before))" "$wall")"
    grep '^PUSH_BAD' "$log" | sed "s/^PUSH_BAD/   $server $phase: bad answers:/" || true
    local v
    v="R_${server}_${phase}_rate"; local rate="${!v}"
    v="R_${server}_${phase}_answered"; local answered="${!v}"
    v="R_${server}_${phase}_non_success"; local bad="${!v}"
    v="R_${server}_${phase}_p50_ms"; local p50="${!v}"
    v="R_${server}_${phase}_p99_ms"; local p99="${!v}"
    v="R_${server}_${phase}_ended"; local ended="${!v}"
    v="R_${server}_${phase}_non_200"; local non_200="${!v}"
    v="R_${server}_${phase}_other_body"; local other_body="${!v}"
    echo "   $server $phase: $answered answers in ${!seconds_var} s = $rate/s, p50 $p50 ms, p99 $p99 ms," \
        "non-success $bad (non-200 $non_200, 200 not 'success' $other_body) (ended by: $ended)"
}

# stop_server: SIGTERM, then SIGKILL after 40 s.
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 400); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

measured_cap="$DURATION"
[ "$DURATION" -gt 0 ] || measured_cap=86400

# --- serve ------------------------------------------------------------------------
if [ "$STORE" = sqlite ]; then store_url="sqlite://$tmp/state.sqlite3"; else store_url="memory:"; fi
cat >"$tmp/app.toml" <<EOF
corp_id = "wwproviderbench"
provider_secret = "provider-secret"
token = "ProviderBenchToken"
aes_key = "$AES_KEY"

[[suites]]
suite_id = "$SUITE"
suite_secret = "suite-secret"
token = "$TOKEN"
aes_key = "$AES_KEY"

# Nothing listens there: these pushes need no call to WeCom.
[http]
base_uri = "http://127.0.0.1:9"
timeout = 2.0
retry = false

[store]
url = "$store_url"
EOF
echo "== serve ($BIN, store $STORE)"
"$BIN" serve --config "$tmp/app.toml" --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.log" &
server_pid=$!
serve_url=$(wait_url "$tmp/serve.out" "serving callbacks on " "$server_pid")
if [ -z "$serve_url" ]; then
    cat "$tmp/serve.out" "$tmp/serve.log" >&2
    die "serve did not start"
fi
serve_pid="$server_pid"
echo "   $serve_url (pid $serve_pid), RSS at start $(mem_mib "$serve_pid" VmRSS) MiB"
run_phase serve fill "$serve_url" 0 "$FILL" "$FILL_CAP"
serve_rss_fill=$(mem_mib "$serve_pid" VmRSS)
run_phase serve measured "$serve_url" "$FILL" "$MEASURED" "$measured_cap"
serve_rss=$(mem_mib "$serve_pid" VmRSS)
serve_hwm=$(mem_mib "$serve_pid" VmHWM)
serve_pushes=$((R_serve_fill_answered + R_serve_measured_answered))
serve_deadline_left=$((timestamp + 300 - $(date +%s)))
# serve's own count of the pushes, by outcome, and of its store operations.
if command -v curl >/dev/null; then
    curl -s --max-time 10 "$serve_url/metrics" >"$tmp/serve.metrics" 2>/dev/null || true
fi
stop_server
serve_log_lines=$(wc -l <"$tmp/serve.log")
serve_log_warn=$(grep -c -E '\b(WARN|ERROR)\b' "$tmp/serve.log" || true)

# --- Node -------------------------------------------------------------------------
echo "== node benches/push/node_server.js ($(node --version), @wecom/crypto $(node -p "require('./tests/interop/node_modules/@wecom/crypto/package.json').version"))"
node benches/push/node_server.js 0 "$TOKEN" "$AES_KEY" "$SUITE" >"$tmp/node.out" 2>"$tmp/node.log" &
server_pid=$!
node_url=$(wait_url "$tmp/node.out" "listening on " "$server_pid")
if [ -z "$node_url" ]; then
    cat "$tmp/node.out" "$tmp/node.log" >&2
    die "the Node server did not start"
fi
node_pid="$server_pid"
echo "   $node_url (pid $node_pid), RSS at start $(mem_mib "$node_pid" VmRSS) MiB"
run_phase node fill "$node_url" 0 "$FILL" "$FILL_CAP"
node_rss_fill=$(mem_mib "$node_pid" VmRSS)
run_phase node measured "$node_url" "$FILL" "$MEASURED" "$measured_cap"
node_rss=$(mem_mib "$node_pid" VmRSS)
node_hwm=$(mem_mib "$node_pid" VmHWM)
stop_server

# --- report -----------------------------------------------------------------------
ratio=$(awk -v a="$R_serve_measured_rate" -v b="$R_node_measured_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
if [ "$DURATION" -gt 0 ]; then limit="${DURATION} s or the corpus"; else limit="the rest of the corpus"; fi
echo
echo "== push benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   corpus $PUSHES distinct create_user pushes; fill $FILL, then measured up to $limit; wrk 1 thread, $CONNECTIONS connections"
echo "   serve: store $STORE; Node: one process, @wecom/crypto, no store"
row() { printf '   %-36s %22s %22s\n' "$1" "$2" "$3"; }
row "" "serve" "Node"
for phase in fill measured; do
    get() { local v="R_$1_${phase}_$2"; echo "${!v}"; }
    row "$phase: pushes/s" "$(get serve rate)" "$(get node rate)"
    row "$phase: p50 / p99 ms" "$(get serve p50_ms) / $(get serve p99_ms)" "$(get node p50_ms) / $(get node p99_ms)"
    row "$phase: non-success answers" "$(get serve non_success)" "$(get node non_success)"
    row "$phase: answers in seconds" "$(get serve answered) in $(get serve seconds)" "$(get node answered) in $(get node seconds)"
    row "$phase: CPU % server/wrk/other/steal" \
        "$(get serve cpu) / $(get serve wrk_cpu) / $(get serve other_cpu) / $(get serve steal)" \
        "$(get node cpu) / $(get node wrk_cpu) / $(get node other_cpu) / $(get node steal)"
    for what in lost connect_errors read_errors write_errors timeouts; do
        if [ "$(get serve "$what")" != 0 ] || [ "$(get node "$what")" != 0 ]; then
            row "$phase: $what" "$(get serve "$what")" "$(get node "$what")"
        fi
    done
done
row "RSS after fill, MiB" "$serve_rss_fill" "$node_rss_fill"
row "RSS after the run (peak), MiB" "$serve_rss ($serve_hwm)" "$node_rss ($node_hwm)"
echo "   measured rate serve/Node: $ratio"
echo "   serve's RSS after $serve_pushes pushes: $serve_rss MiB (peak $serve_hwm MiB)"
echo "   serve's log: $serve_log_lines lines, $serve_log_warn WARN/ERROR"
if [ "$serve_log_warn" -gt 0 ]; then
    grep -E '\b(WARN|ERROR)\b' "$tmp/serve.log" | sed -E 's/^[^ ]+ +//' | sort | uniq -c | sort -rn | head -5 | sed 's/^/     /'
fi
if [ -s "$tmp/serve.metrics" ]; then
    echo "   serve's /metrics: pushes by kind and outcome; store operations"
    grep -E '^wecom_(callback_pushes|store_operations)_total[{]' "$tmp/serve.metrics" |
        sed -E 's/^wecom_([a-z_]+)_total[{](.*)[}] ([0-9.e+]+)$/     \3  \1 \2/' | sort -k2
fi
if [ "$serve_deadline_left" -lt 0 ]; then
    echo "   note: serve's phases outlived the corpus timestamp's 300 s window by $((-serve_deadline_left)) s: its last pushes were refused as stale (403)"
fi
echo "   total $(($(date +%s) - started_at)) s (builds included)"
