#!/usr/bin/env bash
# Compares examples/echo_server (wireframe) with bench_baseline_echo (plain Asio) under
# bench_loadgen. Builds nothing: takes the binaries from the build dir.
#
#   bench/run_echo_compare.sh [build_dir]        (default build/release)
#
# Each server runs with --workers 1 on port 0, pinned to CPU 0 (taskset -c 0); the load generator
# (1 io thread) is pinned to CPU 1. Cases:
#   a  1 connection,  depth 1,  64 B payload
#   b  50 connections, depth 16, 64 B payload
#   c  4 connections,  depth 8,  16 KiB payload
# Every run starts a fresh server. The server order alternates from case to case and from one
# repetition to the next. The table shows the median over the repetitions; MB/s is reply payload
# bytes per second, one direction (10^6 bytes); latencies are in microseconds. "srv CPU" is the
# server's CPU time (user + system, from /proc) over the measured window: cores used, and CPU
# microseconds per reply. On a shared machine, where frames/s depends on what else runs on the
# server's CPU, CPU per reply is the steadier figure.
#
# Environment:
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
ECHO_SERVER=$(find_bin echo_server) || die "echo_server not found under $BUILD_DIR (build target echo_server)"
if [[ -n ${BASELINE_BIN:-} ]]; then
  [[ -x $BASELINE_BIN ]] || die "BASELINE_BIN '$BASELINE_BIN' is not an executable"
  BASELINE=$BASELINE_BIN
else
  BASELINE=$(find_bin bench_baseline_echo) || die "bench_baseline_echo not found under $BUILD_DIR"
fi
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
start_server() {  # binary log_prefix
  local line=""
  "${PIN_SERVER[@]}" "$1" --host 127.0.0.1 --port 0 --workers 1 >"$2.out" 2>"$2.err" &
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
server_bin() { if [[ $1 == wireframe ]]; then echo "$ECHO_SERVER"; else echo "$BASELINE"; fi; }

mkdir -p "$(dirname "$OUT")"
echo "case,server,rep,$("$LOADGEN" --csv-header)" >"$OUT"

echo "echo_server: $ECHO_SERVER"
echo "baseline:    $BASELINE"
echo "loadgen:     $LOADGEN"
echo "pinning:     $PINNING"
echo "runs:        REPEAT=$REPEAT x cases ($CASES) x 2 servers, ${WARMUP}s warm-up + ${DURATION}s each"
echo "load before: $(uptime)"
echo

FAILED=0
ci=0
for rep in $(seq "$REPEAT"); do
  ci=0
  for c in $CASES; do
    ci=$((ci + 1))
    if (((ci + rep) % 2 == 0)); then order="wireframe baseline"; else order="baseline wireframe"; fi
    for server in $order; do
      start_server "$(server_bin "$server")" "$TMP/$server"
      # shellcheck disable=SC2046
      if line=$("${PIN_CLIENT[@]}" "$LOADGEN" --host 127.0.0.1 --port "$PORT" $(case_args "$c") \
                 --duration "$DURATION" --warmup "$WARMUP" --threads 1 --csv --server-pid "$SERVER_PID" \
                 2>"$TMP/loadgen.err"); then
        echo "$c,$server,$rep,$line" >>"$OUT"
        printf 'rep %s case %s %-9s %s\n' "$rep" "$c" "$server" "$line"
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
echo "load after:  $(uptime)"
echo "raw results: $OUT"
echo

awk -F, -v cases="$CASES" '
  function median(key, n,   i, j, t, a) {
    for (i = 1; i <= n; i++) a[i] = v[key, i]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR == 1 { next }
  {
    k = $1 SUBSEP $2; n[k]++
    v[k SUBSEP "fps", n[k]] = $10; v[k SUBSEP "mbps", n[k]] = $11
    v[k SUBSEP "p50", n[k]] = $12; v[k SUBSEP "p99", n[k]] = $13; v[k SUBSEP "p999", n[k]] = $14
    v[k SUBSEP "cores", n[k]] = $17; v[k SUBSEP "cpu", n[k]] = $18
    desc[$1] = sprintf("%s conn, depth %s, %s B", $4, $5, $6)
  }
  END {
    printf "%-4s %-26s %-10s %10s %8s %8s %8s %9s %10s %12s %4s\n", "case", "load", "server", "frames/s", "MB/s",
           "p50 us", "p99 us", "p99.9 us", "srv cores", "srv us/frame", "runs"
    nc = split(cases, cs, " ")
    for (ci = 1; ci <= nc; ci++) {
      c = cs[ci]
      for (si = 1; si <= 2; si++) {
        s = si == 1 ? "wireframe" : "baseline"; k = c SUBSEP s
        if (!(k in n)) { printf "%-4s %-26s %-10s %12s\n", c, desc[c], s, "(no data)"; continue }
        m[k, "fps"] = median(k SUBSEP "fps", n[k]); m[k, "p50"] = median(k SUBSEP "p50", n[k])
        m[k, "cpu"] = median(k SUBSEP "cpu", n[k])
        printf "%-4s %-26s %-10s %10.0f %8.2f %8.1f %8.1f %9.1f %10.2f %12.3f %4d\n", c, desc[c], s, m[k, "fps"],
               median(k SUBSEP "mbps", n[k]), m[k, "p50"], median(k SUBSEP "p99", n[k]), median(k SUBSEP "p999", n[k]),
               median(k SUBSEP "cores", n[k]), m[k, "cpu"], n[k]
      }
    }
    print ""
    print "ratio wireframe/baseline (medians): frames/s (>1 = wireframe faster), p50 (<1 = wireframe lower),"
    print "                                    server CPU per frame (<1 = wireframe cheaper)"
    for (ci = 1; ci <= nc; ci++) {
      c = cs[ci]; w = c SUBSEP "wireframe"; b = c SUBSEP "baseline"
      if (!(w in n) || !(b in n)) continue
      printf "  case %s  frames/s %.3f   p50 %.3f   CPU/frame %.3f\n", c,
             (m[b, "fps"] > 0 ? m[w, "fps"] / m[b, "fps"] : 0), (m[b, "p50"] > 0 ? m[w, "p50"] / m[b, "p50"] : 0),
             (m[b, "cpu"] > 0 ? m[w, "cpu"] / m[b, "cpu"] : 0)
    }
  }' "$OUT"

if ((FAILED > 0)); then
  echo "run_echo_compare: $FAILED run(s) failed" >&2
  exit 1
fi
