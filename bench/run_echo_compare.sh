#!/usr/bin/env bash
# Compares examples/echo_server (wireframe) with other echo servers under bench_loadgen: by default
# bench_baseline_echo (hand-written Asio), optionally the simple Asio baseline, Tokio and Netty.
# Builds nothing: takes the binaries from the build dir (the Tokio and Netty servers from
# <build_dir>/competitors/, where bench/build_competitors.sh puts them).
#
#   bench/run_echo_compare.sh [build_dir]        (default build/release)
#
# Each server runs with --workers 1 on port 0, pinned to CPU 0 (taskset -c 0); the load generator
# (1 io thread) is pinned to CPU 1. Cases:
#   a  1 connection,  depth 1,  64 B payload
#   b  50 connections, depth 16, 64 B payload
#   c  4 connections,  depth 8,  16 KiB payload
# Every run starts a fresh server (a JVM gets the same WARMUP as the others, also its JIT warm-up).
# The server order rotates from case to case and from one repetition to the next. The table shows
# the median over the repetitions; MB/s is reply payload bytes per second, one direction (10^6
# bytes); latencies are in microseconds. "srv CPU" is the server's CPU time (user + system of all
# its threads, from /proc; for a JVM also JIT and GC) over the measured window: cores used, and
# CPU microseconds per reply. On a shared machine, where frames/s depends on what else runs on the
# server's CPU, CPU per reply is the steadier figure. Ratios compare wireframe with every other
# server.
#
# Environment:
#   SERVERS="wireframe baseline"  which servers, any of:
#                  wireframe        echo_server
#                  wireframe_metrics  echo_server counting into Metrics (--metrics-port 0,
#                                   scraped by nobody): what metrics cost, against wireframe
#                  wireframe_spans  echo_server with --trace-spans (spans made and timed, not
#                                   written): what a tracer costs, against wireframe
#                  baseline         bench_baseline_echo (or BASELINE_BIN)
#                  baseline_simple  bench_baseline_echo_simple (the first, simpler Asio baseline)
#                  tokio            competitors/tokio_echo (tokio-util LengthDelimitedCodec)
#                  netty            competitors/netty_echo (LengthFieldBasedFrameDecoder, NIO)
#   REPEAT=3     repetitions of every (case, server)
#   DURATION=5   measured seconds per run          WARMUP=1  warm-up seconds before it
#   CASES="a b c"                                  a subset, e.g. CASES="b"
#   OUT=<build_dir>/bench/results/echo.csv         raw results (one line per run, overwritten)
#   BASELINE_BIN=<path>                            another server in the baseline's place, e.g. the
#                                                  echo_server of an older build (before/after)
set -euo pipefail

BUILD_DIR=${1:-build/release}
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CASES=${CASES:-"a b c"}
SERVERS=${SERVERS:-"wireframe baseline"}
OUT=${OUT:-$BUILD_DIR/bench/results/echo.csv}

die() { echo "run_echo_compare: $*" >&2; exit 1; }

find_bin() {  # name -> path of the executable under BUILD_DIR
  local p
  for p in "$BUILD_DIR/$1" "$BUILD_DIR/bench/$1" "$BUILD_DIR/examples/$1" "$BUILD_DIR/examples/echo_server/$1"; do
    if [[ -x $p && -f $p ]]; then echo "$p"; return 0; fi
  done
  p=$(find "$BUILD_DIR" -type f -name "$1" -perm -u+x 2>/dev/null | head -n1)
  [[ -n $p ]] || return 1
  echo "$p"
}

[[ -d $BUILD_DIR ]] || die "no build dir '$BUILD_DIR'"
declare -A BIN  # server name -> executable
declare -A EXTRA  # server name -> more arguments
for server in $SERVERS; do
  [[ -z ${BIN[$server]:-} ]] || die "server '$server' is listed twice in SERVERS"
  case $server in
    wireframe) BIN[$server]=$(find_bin echo_server) || die "echo_server not found under $BUILD_DIR (build target echo_server)" ;;
    wireframe_metrics)
      BIN[$server]=$(find_bin echo_server) || die "echo_server not found under $BUILD_DIR (build target echo_server)"
      EXTRA[$server]="--metrics-port 0" ;;
    wireframe_spans)
      BIN[$server]=$(find_bin echo_server) || die "echo_server not found under $BUILD_DIR (build target echo_server)"
      EXTRA[$server]="--trace-spans" ;;
    baseline)
      if [[ -n ${BASELINE_BIN:-} ]]; then
        [[ -x $BASELINE_BIN ]] || die "BASELINE_BIN '$BASELINE_BIN' is not an executable"
        BIN[$server]=$BASELINE_BIN
      else
        BIN[$server]=$(find_bin bench_baseline_echo) || die "bench_baseline_echo not found under $BUILD_DIR"
      fi
      ;;
    baseline_simple)
      BIN[$server]=$(find_bin bench_baseline_echo_simple) || die "bench_baseline_echo_simple not found under $BUILD_DIR" ;;
    tokio | netty)
      BIN[$server]=$BUILD_DIR/competitors/${server}_echo
      [[ -x ${BIN[$server]} ]] || die "${BIN[$server]} missing: run bench/build_competitors.sh $BUILD_DIR (it says what it skipped and why)" ;;
    *) die "unknown server '$server' in SERVERS (wireframe, wireframe_metrics, wireframe_spans, baseline, baseline_simple, tokio, netty)" ;;
  esac
done
read -r -a SERVER_LIST <<<"$SERVERS"
((${#SERVER_LIST[@]} > 0)) || die "SERVERS is empty"
LOADGEN=$(find_bin bench_loadgen) || die "bench_loadgen not found under $BUILD_DIR"

PIN_SERVER=()
PIN_CLIENT=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null && taskset -c 1 true 2>/dev/null; then
  PIN_SERVER=(taskset -c 0)
  PIN_CLIENT=(taskset -c 1)
  PINNING="server on CPU 0, load generator on CPU 1"
else
  PINNING="UNPINNED (taskset missing or CPUs 0/1 unavailable)"
  echo "run_echo_compare: NOTE: taskset missing or CPUs 0 and 1 not both usable: running unpinned" >&2
fi

TMP=$(mktemp -d)
SERVER_PID=""
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  local pid=$SERVER_PID
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "run_echo_compare: server $pid did not stop on SIGTERM within 5 s: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=""
start_server() {  # binary log_prefix [more arguments]
  local line=""
  # Empty the log here: the child truncates it only once it runs, and until then the loop below
  # would read the previous run's "listening on" line (and its port).
  : >"$2.out"
  "${PIN_SERVER[@]}" "$1" --host 127.0.0.1 --port 0 --workers 1 "${@:3}" >"$2.out" 2>"$2.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    line=$(head -n1 "$2.out" 2>/dev/null || true)
    [[ $line == "listening on "* ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2.err" >&2; die "$1 exited before listening"; }
    sleep 0.1
  done
  [[ $line == "listening on "* ]] || die "$1 printed no 'listening on' line within 10 s"
  PORT=${line##*:}
}

case_args() {
  case $1 in
    a) echo "--connections 1 --depth 1 --size 64" ;;
    b) echo "--connections 50 --depth 16 --size 64" ;;
    c) echo "--connections 4 --depth 8 --size 16384" ;;
    *) die "unknown case '$1'" ;;
  esac
}
order_for() {  # shift -> SERVERS rotated left by shift (with two servers: alternating)
  local n=${#SERVER_LIST[@]} i
  for ((i = 0; i < n; i++)); do printf '%s ' "${SERVER_LIST[(i + $1) % n]}"; done
}

mkdir -p "$(dirname "$OUT")"
echo "case,server,rep,$("$LOADGEN" --csv-header)" >"$OUT"

for server in "${SERVER_LIST[@]}"; do printf '%-16s %s\n' "$server:" "${BIN[$server]}"; done
echo "loadgen:         $LOADGEN"
echo "pinning:         $PINNING"
echo "runs:            REPEAT=$REPEAT x cases ($CASES) x ${#SERVER_LIST[@]} servers, ${WARMUP}s warm-up + ${DURATION}s each"
echo "load before:     $(uptime)"
echo

FAILED=0
ci=0
for rep in $(seq "$REPEAT"); do
  ci=0
  for c in $CASES; do
    ci=$((ci + 1))
    for server in $(order_for $((ci + rep))); do
      # shellcheck disable=SC2086
      start_server "${BIN[$server]}" "$TMP/$server" ${EXTRA[$server]:-}
      # shellcheck disable=SC2046
      if line=$("${PIN_CLIENT[@]}" "$LOADGEN" --host 127.0.0.1 --port "$PORT" $(case_args "$c") \
                 --duration "$DURATION" --warmup "$WARMUP" --threads 1 --csv --server-pid "$SERVER_PID" \
                 2>"$TMP/loadgen.err"); then
        echo "$c,$server,$rep,$line" >>"$OUT"
        printf 'rep %s case %s %-15s %s\n' "$rep" "$c" "$server" "$line"
      else
        FAILED=$((FAILED + 1))
        echo "rep $rep case $c $server: LOADGEN FAILED:" >&2
        cat "$TMP/loadgen.err" >&2
      fi
      stop_server
    done
  done
done
echo
echo "load after:      $(uptime)"
echo "raw results:     $OUT"
echo

awk -F, -v cases="$CASES" -v servers="$SERVERS" '
  function median(key, n,   i, j, t, a) {
    for (i = 1; i <= n; i++) a[i] = v[key, i]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function ratio(x, y) { return y > 0 ? x / y : 0 }
  NR == 1 { next }
  {
    k = $1 SUBSEP $2; n[k]++
    v[k SUBSEP "fps", n[k]] = $10; v[k SUBSEP "mbps", n[k]] = $11
    v[k SUBSEP "p50", n[k]] = $12; v[k SUBSEP "p99", n[k]] = $13; v[k SUBSEP "p999", n[k]] = $14
    v[k SUBSEP "cores", n[k]] = $17; v[k SUBSEP "cpu", n[k]] = $18
    desc[$1] = sprintf("%s conn, depth %s, %s B", $4, $5, $6)
  }
  END {
    printf "%-4s %-26s %-15s %10s %8s %8s %8s %9s %10s %12s %4s\n", "case", "load", "server", "frames/s", "MB/s",
           "p50 us", "p99 us", "p99.9 us", "srv cores", "srv us/frame", "runs"
    nc = split(cases, cs, " "); ns = split(servers, ss, " ")
    for (ci = 1; ci <= nc; ci++) {
      c = cs[ci]
      for (si = 1; si <= ns; si++) {
        s = ss[si]; k = c SUBSEP s
        if (!(k in n)) { printf "%-4s %-26s %-15s %12s\n", c, desc[c], s, "(no data)"; continue }
        m[k, "fps"] = median(k SUBSEP "fps", n[k]); m[k, "p50"] = median(k SUBSEP "p50", n[k])
        m[k, "cpu"] = median(k SUBSEP "cpu", n[k])
        printf "%-4s %-26s %-15s %10.0f %8.2f %8.1f %8.1f %9.1f %10.2f %12.3f %4d\n", c, desc[c], s, m[k, "fps"],
               median(k SUBSEP "mbps", n[k]), m[k, "p50"], median(k SUBSEP "p99", n[k]), median(k SUBSEP "p999", n[k]),
               median(k SUBSEP "cores", n[k]), m[k, "cpu"], n[k]
      }
    }
    if (!(" " servers " " ~ / wireframe /) || ns < 2) exit
    print ""
    print "ratio wireframe/<server> (medians): frames/s (>1 = wireframe faster), p50 (<1 = wireframe lower),"
    print "                                    server CPU per frame (<1 = wireframe cheaper)"
    for (ci = 1; ci <= nc; ci++) {
      c = cs[ci]; w = c SUBSEP "wireframe"
      for (si = 1; si <= ns; si++) {
        s = ss[si]; o = c SUBSEP s
        if (s == "wireframe" || !(w in n) || !(o in n)) continue
        printf "  case %s  vs %-15s  frames/s %.3f   p50 %.3f   CPU/frame %.3f\n", c, s,
               ratio(m[w, "fps"], m[o, "fps"]), ratio(m[w, "p50"], m[o, "p50"]), ratio(m[w, "cpu"], m[o, "cpu"])
      }
    }
  }' "$OUT"

if ((FAILED > 0)); then
  echo "run_echo_compare: $FAILED run(s) failed" >&2
  exit 1
fi
