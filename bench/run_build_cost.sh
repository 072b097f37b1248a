#!/usr/bin/env bash
# Compile-time cost of a wireframe server vs the plain-Asio baseline: wall time to compile
# examples/echo_server/main.cpp and bench/baseline_echo/main.cpp as single translation units.
#
#   bench/run_build_cost.sh [build_dir]        (default build/release)
#
# Both TUs get the exact compile command of echo_server from build_dir/compile_commands.json
# (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON; the presets do), with the compiler launcher
# (ccache) dropped, the compiler replaced by g++ called directly (CCACHE_DISABLE=1 too), the
# -O/-g/-DNDEBUG flags and the dependency/output flags removed, and then either "-O0 -g" or
# "-O2 -DNDEBUG" added. Each (TU, flags) is compiled RUNS times; the best wall time counts. Objects
# go to a temporary directory; nothing in the build dir is touched.
#
# Environment:
#   RUNS=3                                      compiles per (TU, flags)
#   GXX=g++                                     the compiler (must not be a ccache wrapper)
#   OUT=<build_dir>/bench/results/build_cost.csv  raw results (overwritten)
set -euo pipefail

BUILD_DIR=${1:-build/release}
RUNS=${RUNS:-3}
GXX=${GXX:-g++}
OUT=${OUT:-$BUILD_DIR/bench/results/build_cost.csv}
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CCACHE_DISABLE=1

die() { echo "run_build_cost: $*" >&2; exit 1; }

DB=$BUILD_DIR/compile_commands.json
[[ -f $DB ]] || die "no $DB: configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to read $DB"
GXX_PATH=$(command -v "$GXX") || die "compiler '$GXX' not found"
if [[ $(readlink -f "$GXX_PATH") == *ccache* ]]; then
  die "'$GXX_PATH' resolves to ccache: set GXX to the real compiler (e.g. /usr/bin/g++-12)"
fi

ECHO_SRC=$SRC_DIR/examples/echo_server/main.cpp
BASE_SRC=$SRC_DIR/bench/baseline_echo/main.cpp
[[ -f $ECHO_SRC && -f $BASE_SRC ]] || die "sources not found under $SRC_DIR"

# Prints the working directory, then the flags (one per line) of echo_server's compile command.
mapfile -t CMD < <(python3 - "$DB" <<'EOF'
import json, os, shlex, sys
entries = json.load(open(sys.argv[1]))
entry = next((e for e in entries if e["file"].replace("\\", "/").endswith("examples/echo_server/main.cpp")), None)
if entry is None:
    sys.exit("run_build_cost: examples/echo_server/main.cpp is not in compile_commands.json")
args = entry.get("arguments") or shlex.split(entry["command"])
# Drop launchers (ccache, ...) and the compiler itself.
while args and ("ccache" in os.path.basename(args[0]) or os.path.basename(args[0]) in ("env", "distcc")):
    args = args[1:]
args = args[1:]
out, skip = [], False
for a in args:
    if skip:
        skip = False
        continue
    if a in ("-o", "-c", "-MT", "-MF", "-MQ"):
        skip = True
        continue
    if a in ("-MD", "-MMD", "-DNDEBUG") or a.startswith("-O") or a == "-g" or a.startswith("-g") and a[2:3].isdigit():
        continue
    if a == entry["file"] or a.endswith("examples/echo_server/main.cpp"):
        continue
    out.append(a)
print(entry["directory"])
for a in out:
    print(a)
EOF
)
((${#CMD[@]} >= 1)) || die "could not read the compile command from $DB"
WORKDIR=${CMD[0]}
FLAGS=("${CMD[@]:1}")

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

now() { echo "${EPOCHREALTIME/,/.}"; }

mkdir -p "$(dirname "$OUT")"
echo "tu,flags,best_s,runs_s,max_rss_kb" >"$OUT"
echo "compiler: $GXX_PATH ($("$GXX_PATH" --version | head -n1))"
echo "command:  $GXX_PATH ${FLAGS[*]} <-O0 -g | -O2 -DNDEBUG> -c <TU> -o <tmp>.o   (in $WORKDIR)"
echo "load:     $(uptime)"
echo

declare -A BEST
for mode in "-O0 -g" "-O2 -DNDEBUG"; do
  for tu in echo_server baseline_echo; do
    if [[ $tu == echo_server ]]; then src=$ECHO_SRC; else src=$BASE_SRC; fi
    best="" all="" rss=0
    for _ in $(seq "$RUNS"); do
      t0=$(now)
      # $mode is split into its flags on purpose.
      # shellcheck disable=SC2086
      if [[ -x /usr/bin/time ]]; then
        (cd "$WORKDIR" && /usr/bin/time -f %M -o "$TMP/rss" "$GXX_PATH" "${FLAGS[@]}" $mode -c "$src" -o "$TMP/$tu.o") ||
          die "compiling $src failed"
      else
        # shellcheck disable=SC2086
        (cd "$WORKDIR" && "$GXX_PATH" "${FLAGS[@]}" $mode -c "$src" -o "$TMP/$tu.o") || die "compiling $src failed"
        echo 0 >"$TMP/rss"
      fi
      t1=$(now)
      t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
      r=$(tail -n1 "$TMP/rss")
      ((r > rss)) && rss=$r
      all="$all${all:+ }$t"
      if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
    done
    BEST["$tu|$mode"]=$best
    echo "$tu,$mode,$best,$all,$rss" >>"$OUT"
    printf '%-14s %-13s best %6.2f s   (runs: %s; peak RSS %d MB)\n' "$tu" "$mode" "$best" "$all" $((rss / 1024))
  done
done

echo
for mode in "-O0 -g" "-O2 -DNDEBUG"; do
  awk -v m="$mode" -v w="${BEST["echo_server|$mode"]}" -v b="${BEST["baseline_echo|$mode"]}" \
    'BEGIN { printf "ratio echo_server / baseline at %-13s %.2fx  (%.2f s vs %.2f s)\n", m, (b > 0 ? w / b : 0), w, b }'
done
echo "raw results: $OUT"
