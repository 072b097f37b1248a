#!/usr/bin/env bash
# Memory per idle connection: examples/echo_server (wireframe) vs bench_baseline_echo_simple (plain
# Asio). The simple baseline, not bench_baseline_echo: its 16 KiB read buffer matches wireframe's
# default read chunk, where the strong baseline spends 64 KiB per connection on throughput.
# Builds nothing: takes the binaries from the build dir.
#
#   bench/run_idle_memory.sh [build_dir]        (default build/release)
#
# For each server (--workers 1, port 0): read VmRSS from /proc/PID/status once it listens, open
# CONNECTIONS connections with `bench_loadgen --idle` (one echo on each, so every connection has
# been accepted and served), read VmRSS again while they are held open and silent, and print
# (RSS_after - RSS_before) / connections in bytes. VmRSS has 4 KiB page granularity and includes
# allocator slack, so this is the resident cost as the OS sees it.
#
# Environment:
#   CONNECTIONS=10000   idle connections (lowered to fit the file descriptor limit, with a note)
#   HOLD=5              seconds the load generator holds them (at least 2; RSS is read 1 s after they
#                       are all up)
#   OUT=<build_dir>/bench/results/idle_memory.csv   raw results (overwritten)
set -euo pipefail

BUILD_DIR=${1:-build/release}
CONNECTIONS=${CONNECTIONS:-10000}
HOLD=${HOLD:-5}
OUT=${OUT:-$BUILD_DIR/bench/results/idle_memory.csv}

die() { echo "run_idle_memory: $*" >&2; exit 1; }
if awk -v h="$HOLD" 'BEGIN { exit !(h < 2) }'; then
  echo "run_idle_memory: NOTE: HOLD=$HOLD is too short to read the RSS while connections are held: using 2" >&2
  HOLD=2
fi

find_bin() {
  local p
  for p in "$BUILD_DIR/$1" "$BUILD_DIR/bench/$1" "$BUILD_DIR/examples/$1" "$BUILD_DIR/examples/echo_server/$1"; do
    if [[ -x $p && -f $p ]]; then echo "$p"; return 0; fi
  done
  p=$(find "$BUILD_DIR" -type f -name "$1" -perm -u+x 2>/dev/null | head -n1)
  [[ -n $p ]] || return 1
  echo "$p"
}

[[ -d $BUILD_DIR ]] || die "no build dir '$BUILD_DIR'"
ECHO_SERVER=$(find_bin echo_server) || die "echo_server not found under $BUILD_DIR"
BASELINE=$(find_bin bench_baseline_echo_simple) || die "bench_baseline_echo_simple not found under $BUILD_DIR"
LOADGEN=$(find_bin bench_loadgen) || die "bench_loadgen not found under $BUILD_DIR"

# File descriptors: each side needs one per connection plus a few. Raise the soft limit of this
# shell (inherited by server and load generator) as far as the hard limit allows.
WANT=$((CONNECTIONS + 64))
HARD=$(ulimit -Hn)
if [[ $HARD == unlimited ]] || ((HARD >= WANT)); then
  LIMIT=$((WANT > 20000 ? WANT : 20000))
  [[ $HARD != unlimited ]] && ((LIMIT > HARD)) && LIMIT=$HARD
else
  LIMIT=$HARD
fi
if ! ulimit -n "$LIMIT" 2>/dev/null; then
  LIMIT=$(ulimit -n)
  echo "run_idle_memory: NOTE: could not raise the file descriptor limit; it stays at $LIMIT" >&2
fi
LIMIT=$(ulimit -n)
if ((CONNECTIONS + 64 > LIMIT)); then
  NEW=$((LIMIT - 64))
  ((NEW > 0)) || die "file descriptor limit $LIMIT is too low"
  echo "run_idle_memory: NOTE: fd limit is $LIMIT (hard $HARD): using $NEW connections instead of $CONNECTIONS" >&2
  CONNECTIONS=$NEW
fi

TMP=$(mktemp -d)
SERVER_PID=""
LOADGEN_PID=""
stop_pid() {
  local pid=$1
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$LOADGEN_PID"
  stop_pid "$SERVER_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

start_server() {  # binary log_prefix
  local line=""
  # Own subshell with the raised limit (exec: $! is the server itself).
  (ulimit -n "$LIMIT" 2>/dev/null || true; exec "$1" --host 127.0.0.1 --port 0 --workers 1) >"$2.out" 2>"$2.err" &
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

mkdir -p "$(dirname "$OUT")"
echo "server,connections,rss_before_kb,rss_after_kb,bytes_per_connection,server_fd_limit" >"$OUT"
echo "connections: $CONNECTIONS (fd limit $LIMIT, hard $HARD)"
echo "load:        $(uptime)"

RESULTS=()
for server in wireframe baseline; do
  if [[ $server == wireframe ]]; then bin=$ECHO_SERVER; else bin=$BASELINE; fi
  start_server "$bin" "$TMP/$server"
  sleep 0.5
  server_limit=$(awk '/^Max open files/ { print $4 }' "/proc/$SERVER_PID/limits")
  before=$(rss_kb "$SERVER_PID")

  "$LOADGEN" --host 127.0.0.1 --port "$PORT" --idle "$CONNECTIONS" --hold "$HOLD" >"$TMP/loadgen.out" 2>"$TMP/loadgen.err" &
  LOADGEN_PID=$!
  up=0
  for _ in $(seq 600); do  # up to 60 s to open them
    if grep -q '^holding' "$TMP/loadgen.out" 2>/dev/null; then up=1; break; fi
    kill -0 "$LOADGEN_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ((up == 0)); then
    cat "$TMP/loadgen.err" >&2
    die "$server: the load generator did not get $CONNECTIONS connections up"
  fi
  sleep 1  # let the server settle (it has already answered every connection)
  after=$(rss_kb "$SERVER_PID")
  kill -0 "$LOADGEN_PID" 2>/dev/null || die "$server: the load generator exited before the RSS was read (HOLD too short?)"
  wait "$LOADGEN_PID" || die "$server: the load generator failed: $(cat "$TMP/loadgen.err")"
  LOADGEN_PID=""
  stop_pid "$SERVER_PID"
  SERVER_PID=""

  per_conn=$(((after - before) * 1024 / CONNECTIONS))
  echo "$server,$CONNECTIONS,$before,$after,$per_conn,$server_limit" >>"$OUT"
  RESULTS+=("$(printf '%-10s %8d kB -> %8d kB   %7d bytes/connection' "$server" "$before" "$after" "$per_conn")")
  echo "$server: $(head -n1 "$TMP/loadgen.out")"
done

echo
printf '%-10s %11s    %11s   %s\n' server "RSS before" "RSS after" "(after - before) / $CONNECTIONS connections"
printf '%s\n' "${RESULTS[@]}"
echo "raw results: $OUT"
