#!/usr/bin/env bash
# Every benchmark in one command, with all results in one directory and a plot at the end.
# Builds nothing: takes the binaries from the build dir.
#
#   bench/run_all.sh [build_dir]        (default <repo>/build/release)
#
# Steps, in this order (results go to <build_dir>/bench/results, overwriting earlier ones):
#   micro       Google Benchmark programs in <build_dir>/bench: codec_bench, fragment_bench, push_bench,
#               fragment_echo_bench, alloc_bench, each with --benchmark_min_time=$MIN_TIME;
#               JSON to <results>/<name>.json, the usual table to the terminal
#   echo        bench/run_echo_compare.sh    -> <results>/echo.csv
#   idle        bench/run_idle_memory.sh     -> <results>/idle_memory.csv
#   build_cost  bench/run_build_cost.sh      -> <results>/build_cost.csv  (needs python3 and g++)
#   resp        bench/run_resp_compare.sh    -> <results>/resp.csv  (needs redis-server,
#               redis-benchmark and redis-cli: installed with apt-get when missing, with root or sudo)
#   plot        bench/plot_results.sh <results>  -> $PLOT_OUT  (needs gnuplot: installed likewise)
# A step whose tool is missing and cannot be installed is skipped with a message; a step that fails
# does not stop the others. The exit status is 1 when any step failed.
#
# Environment:
#   MIN_TIME=0.5      --benchmark_min_time of the micro-benchmarks (seconds)
#   SKIP_MICRO=1 SKIP_ECHO=1 SKIP_IDLE=1 SKIP_BUILD_COST=1 SKIP_RESP=1 SKIP_PLOT=1   leave a step out
#   PLOT_OUT=<repo>/docs/performance.png   where the plot goes
#   Passed on to the scripts: REPEAT DURATION WARMUP CASES (echo), CONNECTIONS HOLD (idle),
#   RUNS GXX (build_cost), N C ROUNDS (resp), PLOT_TIMEOUT (plot). OUT is set by this script.
# Run it on an otherwise idle machine with at least 2 CPUs: the comparisons pin the server to
# CPU 0 and the load generator to CPU 1. A quicker, rougher pass:
#   MIN_TIME=0.1 REPEAT=1 DURATION=2 RUNS=1 N=50000 bench/run_all.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$repo/build/release}
[[ $build_dir = /* ]] || build_dir=$PWD/$build_dir
build_dir=${build_dir%/}
results=$build_dir/bench/results
MIN_TIME=${MIN_TIME:-0.5}
PLOT_OUT=${PLOT_OUT:-$repo/docs/performance.png}
micro=(codec_bench fragment_bench fragment_echo_bench alloc_bench push_bench)

die() { echo "run_all: $*" >&2; exit 1; }
skipped() { [[ ${!1:-0} == 1 ]]; }  # skipped SKIP_X: is that step turned off?

[[ $MIN_TIME =~ ^[0-9]*\.?[0-9]+$ ]] || die "MIN_TIME must be a number of seconds, not '$MIN_TIME'"

# --- The binaries of every step that will run. ---
missing=()
need_file() { [[ -f $build_dir/$1 && -x $build_dir/$1 ]] || missing+=("$build_dir/$1"); }
if ! skipped SKIP_MICRO; then
  for m in "${micro[@]}"; do need_file "bench/$m"; done
fi
if ! skipped SKIP_ECHO || ! skipped SKIP_IDLE; then
  need_file echo_server
  need_file bench/bench_baseline_echo
  need_file bench/bench_loadgen
fi
skipped SKIP_IDLE || need_file bench/bench_baseline_echo_simple  # the idle-memory reference
skipped SKIP_RESP || need_file resp_server
if ((${#missing[@]} > 0)); then
  {
    echo "run_all: these programs are missing:"
    printf '  %s\n' "${missing[@]}"
    if [[ $build_dir == "$repo/build/release" ]]; then
      echo "build them first, in $repo:"
      echo "  cmake --preset release && cmake --build --preset release"
    else
      echo "build them first: configure $build_dir with the benchmarks on (WIREFRAME_BUILD_BENCHMARKS=ON, the"
      echo "default) and run 'cmake --build $build_dir'; or use the release preset:"
      echo "  cmake --preset release && cmake --build --preset release"
    fi
  } >&2
  exit 1
fi

# Root, or sudo (non-interactive when there is no terminal to ask for a password on).
as_root=()
can_root() {
  if [[ $(id -u) -eq 0 ]]; then as_root=(); return 0; fi
  command -v sudo >/dev/null 2>&1 || return 1
  as_root=(sudo)
  [[ -t 0 ]] || as_root=(sudo -n)
}
apt_install() {  # apt_install PACKAGE...: with root or sudo; apt-get update once if the first try fails
  can_root || return 1
  local install=(timeout 900 "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@")
  "${install[@]}" >/dev/null || { timeout 900 "${as_root[@]}" apt-get update >/dev/null && "${install[@]}" >/dev/null; }
}

# --- Step bookkeeping. ---
summary=()
failures=0
hms() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
banner() { echo; echo "=== run_all: $1 ($(date '+%H:%M:%S'))"; }
step() {  # step NAME COMMAND...: runs it, records ok/FAILED and its duration
  local name=$1 t0=$SECONDS rc=0
  shift
  banner "$name"
  if "$@"; then rc=0; else rc=$?; fi
  local dt=$((SECONDS - t0))
  if ((rc == 0)); then
    summary+=("$(printf '%-20s ok        %s' "$name" "$(hms "$dt")")")
  else
    failures=$((failures + 1))
    summary+=("$(printf '%-20s FAILED    %s (exit %d)' "$name" "$(hms "$dt")" "$rc")")
    echo "run_all: step '$name' failed (exit $rc); going on with the others" >&2
  fi
}
skip() {  # skip NAME REASON [OUTPUT_FILE]
  banner "$1"
  echo "run_all: SKIPPED $1: $2"
  if [[ -n ${3:-} && -f $3 ]]; then
    echo "run_all: NOTE: $3 is left from an earlier run ($(date -r "$3" '+%Y-%m-%d %H:%M')) and will be plotted"
  fi
  summary+=("$(printf '%-20s skipped   (%s)' "$1" "$2")")
}

trap 'echo "run_all: interrupted" >&2; exit 130' INT TERM
mkdir -p "$results"
start=$SECONDS
echo "run_all: build dir $build_dir"
echo "run_all: results   $results"
echo "run_all: started $(date '+%Y-%m-%d %H:%M:%S') on $(uname -n), $(nproc) CPUs; load:$(uptime | sed 's/.*load average://')"

# --- 1. Micro-benchmarks. ---
if skipped SKIP_MICRO; then
  skip micro "SKIP_MICRO=1"
else
  for m in "${micro[@]}"; do
    step "$m" "$build_dir/bench/$m" "--benchmark_min_time=$MIN_TIME" \
      "--benchmark_out=$results/$m.json" --benchmark_out_format=json
  done
fi

# --- 2. Echo comparison, idle memory, build cost. ---
if skipped SKIP_ECHO; then
  skip echo "SKIP_ECHO=1" "$results/echo.csv"
else
  step echo env OUT="$results/echo.csv" bash "$repo/bench/run_echo_compare.sh" "$build_dir"
fi

if skipped SKIP_IDLE; then
  skip idle_memory "SKIP_IDLE=1"
else
  step idle_memory env OUT="$results/idle_memory.csv" bash "$repo/bench/run_idle_memory.sh" "$build_dir"
fi

gxx=${GXX:-g++}
if skipped SKIP_BUILD_COST; then
  skip build_cost "SKIP_BUILD_COST=1"
elif ! command -v python3 >/dev/null 2>&1; then
  skip build_cost "python3 is not installed (it reads compile_commands.json)"
elif ! command -v "$gxx" >/dev/null 2>&1; then
  skip build_cost "compiler '$gxx' not found (set GXX)"
elif [[ ! -f $build_dir/compile_commands.json ]]; then
  skip build_cost "no $build_dir/compile_commands.json (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON; the presets do)"
else
  step build_cost env OUT="$results/build_cost.csv" bash "$repo/bench/run_build_cost.sh" "$build_dir"
fi

# --- 3. RESP comparison with Redis. ---
have_redis() { command -v redis-server && command -v redis-benchmark && command -v redis-cli; } >/dev/null 2>&1
if skipped SKIP_RESP; then
  skip resp "SKIP_RESP=1" "$results/resp.csv"
else
  if ! have_redis; then
    echo
    echo "run_all: redis-server/redis-benchmark/redis-cli missing: installing redis-server and redis-tools with apt-get..."
    apt_install redis-server redis-tools || true
  fi
  if have_redis; then
    step resp env OUT="$results/resp.csv" bash "$repo/bench/run_resp_compare.sh" "$build_dir"
  elif can_root; then
    skip resp "redis-server, redis-benchmark or redis-cli missing and apt-get could not install redis-server redis-tools" "$results/resp.csv"
  else
    skip resp "redis-server, redis-benchmark or redis-cli missing and no root or sudo to install them (install redis-server and redis-tools, or set SKIP_RESP=1)" "$results/resp.csv"
  fi
fi

# --- 4. Plot. ---
if skipped SKIP_PLOT; then
  skip plot "SKIP_PLOT=1"
elif ! command -v gnuplot >/dev/null 2>&1 && ! can_root; then
  skip plot "gnuplot is missing and there is no root or sudo to install it (install gnuplot-nox)"
elif [[ ! -f $results/echo.csv && ! -f $results/resp.csv ]]; then
  skip plot "neither echo.csv nor resp.csv in $results"
else
  step plot bash "$repo/bench/plot_results.sh" "$results" "$PLOT_OUT"
fi

# --- Summary. ---
echo
echo "=== run_all: summary"
printf '%s\n' "${summary[@]}"
echo "results: $results"
ls -l "$results"
echo "total time: $(hms $((SECONDS - start)))"
if ((failures > 0)); then
  echo "run_all: $failures step(s) failed" >&2
  exit 1
fi
