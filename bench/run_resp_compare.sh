#!/usr/bin/env bash
# Compares examples/resp_server (wireframe + RespCodec, one worker) with Redis itself, using
# redis-benchmark against both: PING_MBULK, SET and GET, 50 clients, without pipelining (-P 1)
# and with 16 requests per round trip (-P 16), one test per run, the two servers taking turns
# going first. Prints requests/s side by side with the ratio resp_server / redis, and each
# server's CPU time per request (from its threads' scheduler statistics), which a busy shared
# machine distorts far less than requests/s. The raw CSV goes to a file.
#
# Usage: bench/run_resp_compare.sh [build_dir]        (default: build/release)
# Environment:
#   N=200000     requests per test (lower it for a quick run, e.g. N=50000)
#   C=50         parallel clients
#   ROUNDS=1     repetitions of the whole comparison (the table shows the mean)
#   OUT=...      raw results (default <build_dir>/bench/results/resp.csv)
# Needs redis-server, redis-benchmark and redis-cli (installed from Debian with apt-get when
# missing: needs root or sudo). When taskset exists both servers are pinned to CPU 0 and
# redis-benchmark to CPU 1, so each server gets one core, as Redis uses one.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$repo/build/release}
[[ "$build_dir" = /* ]] || build_dir=$PWD/$build_dir
server_bin=$build_dir/resp_server
N=${N:-200000}
C=${C:-50}
ROUNDS=${ROUNDS:-1}
OUT=${OUT:-$build_dir/bench/results/resp.csv}
tests=ping_mbulk,set,get

die() { echo "run_resp_compare: $*" >&2; exit 1; }
[[ -x "$server_bin" ]] || die "no $server_bin: build it first (cmake --build $build_dir --target resp_server)"
[[ "$N" =~ ^[1-9][0-9]*$ && "$C" =~ ^[1-9][0-9]*$ && "$ROUNDS" =~ ^[1-9][0-9]*$ ]] ||
  die "N, C and ROUNDS must be positive integers"

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null ||
   ! command -v redis-cli >/dev/null; then
  echo "installing redis-server and redis-tools from Debian..." >&2
  sudo=''
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get install -y --no-install-recommends redis-server redis-tools >/dev/null ||
    { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends redis-server redis-tools >/dev/null; } ||
    die "could not install redis-server/redis-tools"
fi

server_cpu=() bench_cpu=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  server_cpu=(taskset -c 0)
  bench_cpu=(taskset -c 1)
fi

work=$(mktemp -d)
redis_pid='' resp_pid=''
cleanup() {
  for p in $redis_pid $resp_pid; do kill "$p" 2>/dev/null || true; done
  for p in $redis_pid $resp_pid; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_ping() {  # wait_ping <port>: up to 5 s until the server answers PING
  for _ in $(seq 100); do
    [[ $(timeout 2 redis-cli -p "$1" PING 2>/dev/null) == PONG ]] && return 0
    sleep 0.05
  done
  return 1
}

# Redis on a free port: pick one that nothing answers on, retry if another process took it.
redis_port=''
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # in use
  "${server_cpu[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --logfile "$work/redis.log" &
  redis_pid=$!
  if wait_ping "$port" && kill -0 "$redis_pid" 2>/dev/null; then
    redis_port=$port
    break
  fi
  kill -9 "$redis_pid" 2>/dev/null || true
  redis_pid=''
done
[[ -n "$redis_port" ]] || die "could not start redis-server (see $work/redis.log)"

"${server_cpu[@]}" "$server_bin" --port 0 --workers 1 >"$work/resp.out" 2>"$work/resp.err" &
resp_pid=$!
for _ in $(seq 100); do [[ -s "$work/resp.out" ]] && break; sleep 0.05; done
[[ $(head -n 1 "$work/resp.out") =~ ^listening\ on\ .+:([0-9]+)$ ]] || die "resp_server did not start"
resp_port=${BASH_REMATCH[1]}
wait_ping "$resp_port" || die "resp_server does not answer PING"

mkdir -p "$(dirname "$OUT")"
echo '"server","pipeline","clients","requests","round","server_cpu_us_per_request","test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"' >"$OUT"

# On-CPU nanoseconds of all of a process's threads so far (scheduler statistics: exact, unlike
# the 10 ms ticks of /proc/PID/stat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ sum += $1 } END { printf "%.0f", sum }'; }

# run <server> <pid> <port> <pipeline> <round> <test>: one redis-benchmark run of one test; its
# CSV row goes to OUT with the server's CPU time per request (a shared machine skews requests/s,
# it skews CPU per request much less).
run() {
  local name=$1 spid=$2 port=$3 pipeline=$4 round=$5 test=$6 csv before after
  before=$(cpu_ns "$spid")
  csv=$(timeout 600 "${bench_cpu[@]}" redis-benchmark -p "$port" -t "$test" -c "$C" -n "$N" \
          -P "$pipeline" -q --csv 2>>"$work/bench.err") || die "redis-benchmark against $name failed"
  after=$(cpu_ns "$spid")
  local per_req
  per_req=$(awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN { printf "%.2f", (a - b) / 1000 / n }')
  grep -v '^"test"' <<<"$csv" | sed "s/^/\"$name\",$pipeline,$C,$N,$round,$per_req,/" >>"$OUT"
  echo "  $name -P $pipeline $test: $(grep -v '^"test"' <<<"$csv" | cut -d, -f2 | tr -d '"') rps," \
       "${per_req} us CPU/request" >&2
}

echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on :$redis_port," \
     "resp_server on :$resp_port; N=$N C=$C rounds=$ROUNDS; load: $(uptime | sed 's/.*load average: //')" >&2
turn=0
for round in $(seq "$ROUNDS"); do
  for pipeline in 1 16; do
    for test in ${tests//,/ }; do
      if (( turn % 2 == 0 )); then
        run redis "$redis_pid" "$redis_port" "$pipeline" "$round" "$test"
        run resp_server "$resp_pid" "$resp_port" "$pipeline" "$round" "$test"
      else
        run resp_server "$resp_pid" "$resp_port" "$pipeline" "$round" "$test"
        run redis "$redis_pid" "$redis_port" "$pipeline" "$round" "$test"
      fi
      turn=$((turn + 1))
    done
  done
done
kill -0 "$resp_pid" 2>/dev/null || die "resp_server died during the benchmark"

# The table: means over the rounds.
awk -F, '
  NR == 1 { next }
  { gsub(/"/, ""); key = $7 SUBSEP $2; rps[$1, key] += $8; cpu[$1, key] += $6; cnt[$1, key]++
    if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
  END {
    printf "%-11s %3s %12s %12s %6s   %s\n", "test", "-P", "redis rps", "resp_server", "ratio",
           "server CPU us/request: redis resp_server"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, part, SUBSEP)
      rc = cnt["redis", k]; wc = cnt["resp_server", k]
      r = rc ? rps["redis", k] / rc : 0; w = wc ? rps["resp_server", k] / wc : 0
      ratio = r > 0 ? w / r : 0  # (inside printf, ">" would redirect)
      printf "%-11s %3s %12.0f %12.0f %6.2f   %27.2f %11.2f\n", part[1], part[2], r, w, ratio,
             rc ? cpu["redis", k] / rc : 0, wc ? cpu["resp_server", k] / wc : 0
    }
  }' "$OUT"
echo "raw results: $OUT; load after: $(uptime | sed 's/.*load average: //')" >&2
