#!/usr/bin/env bash
# TLS against plain TCP, one run, side by side: examples/echo_server served plain and with
# --tls-cert/--tls-key, driven by bench_loadgen (plain, and --tls-ca), alternating per round so
# that both see the same machine. Prints frames/s and the server's CPU microseconds per reply
# (from /proc, --server-pid), and the memory of idle TLS connections against plain ones.
# Builds nothing: takes the binaries from the build dir. Certificates are made in a temporary
# directory with tests/support/make_test_certs.sh (openssl).
#
#   bench/run_tls_echo.sh [build_dir]        (default build/release)
#
# Environment: ROUNDS=3 (per transport and case), DURATION=3, WARMUP=1 (seconds),
#              IDLE=2000 (idle connections for the memory figure; 0 skips it)
set -euo pipefail

BUILD_DIR=${1:-build/release}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
IDLE=${IDLE:-2000}
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "run_tls_echo: $*" >&2; exit 1; }
find_bin() {
  local p
  p=$(find "$BUILD_DIR" -type f -name "$1" -perm -u+x 2>/dev/null | head -n1)
  [[ -n $p ]] || die "$1 not found under $BUILD_DIR"
  echo "$p"
}
ECHO_SERVER=$(find_bin echo_server)
LOADGEN=$(find_bin bench_loadgen)

dir=$(mktemp -d)
pid=
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
bash "$here/../tests/support/make_test_certs.sh" "$dir/certs"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

start_server() {  # start_server [tls flags...]: sets pid and port
  : >"$dir/out"
  "$ECHO_SERVER" --port 0 --workers 1 "$@" >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 100); do
    [[ -s $dir/out ]] && break
    sleep 0.05
  done
  port=$(head -n1 "$dir/out" | sed -E 's/.*:([0-9]+)$/\1/')
  [[ $port =~ ^[0-9]+$ ]] || die "no port from echo_server: $(cat "$dir/out" "$dir/err")"
}
stop_server() { kill -INT "$pid"; timeout 10 tail --pid="$pid" -f /dev/null || kill -9 "$pid"; pid=; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

tls_server=(--tls-cert "$dir/certs/server.crt" --tls-key "$dir/certs/server.key")
tls_client=(--tls-ca "$dir/certs/ca.crt")

printf '%-6s %-22s %5s %12s %14s\n' transport case round frames/s cpu_us/reply
for c in "1 1 64" "16 16 64" "4 4 16384"; do
  read -r conns depth size <<<"$c"
  for round in $(seq "$ROUNDS"); do
    for transport in tcp tls; do
      if [[ $transport == tls ]]; then start_server "${tls_server[@]}"; extra=("${tls_client[@]}"); else start_server; extra=(); fi
      line=$(timeout $((DURATION + WARMUP + 30)) "$LOADGEN" --port "$port" --connections "$conns" --depth "$depth" \
               --size "$size" --duration "$DURATION" --warmup "$WARMUP" --threads 1 --csv --server-pid "$pid" "${extra[@]}")
      IFS=, read -r -a f <<<"$line"
      printf '%-6s %-22s %5s %12.0f %14s\n' "$transport" "c=$conns d=$depth s=$size" "$round" "${f[6]}" "${f[14]}"
      stop_server
    done
  done
done

if ((IDLE > 0)); then
  echo
  printf '%-6s %10s %16s\n' transport idle bytes/connection
  for transport in tcp tls; do
    if [[ $transport == tls ]]; then start_server "${tls_server[@]}"; extra=("${tls_client[@]}"); else start_server; extra=(); fi
    before=$(rss_kib "$pid")
    : >"$dir/idle"
    timeout 120 "$LOADGEN" --port "$port" --idle "$IDLE" --hold 4 "${extra[@]}" >"$dir/idle" &
    lg=$!
    for _ in $(seq 1100); do grep -q '^holding' "$dir/idle" && break; sleep 0.1; done
    sleep 1
    after=$(rss_kib "$pid")
    wait "$lg"
    printf '%-6s %10s %16d\n' "$transport" "$IDLE" $(((after - before) * 1024 / IDLE))
    stop_server
  done
fi
