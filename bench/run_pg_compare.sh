#!/usr/bin/env bash
# Compares examples/pg_server (one worker) with PostgreSQL 15 itself (Debian's, a throwaway
# cluster with fsync off), with the same clients against both:
#   point   pgbench, simple protocol, `SELECT v FROM kv WHERE k = :k` on a 1000-row table (no
#           index on either side: both scan), C clients for T seconds: transactions/s, mean
#           latency, and the server's CPU time per transaction;
#   stream  `SELECT * FROM generate_series(1, ROWS)` read by a raw client (python, 1 MiB reads,
#           nothing kept): seconds, MB/s, and the server's CPU time.
# Both servers are pinned to CPU 0 and the clients to CPU 1 when taskset exists (PostgreSQL's
# backend processes too: one core each side). Server CPU is read from /proc: pg_server's own
# time; PostgreSQL's postmaster with its reaped children (every backend ends with its client).
# A busy shared machine distorts rates far more than CPU per transaction: trust that and ratios.
#
# Usage: bench/run_pg_compare.sh [build_dir]          (default: build/release)
# Environment: T=10 (seconds per pgbench run), C="1 8" (client counts), ROWS=10000000
# Needs postgresql-15 and pgbench (Debian: postgresql, postgresql-contrib). Run as root, it
# starts PostgreSQL as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$repo/build/release}
server_bin=$build_dir/pg_server
T=${T:-10}
C=${C:-"1 8"}
ROWS=${ROWS:-10000000}
pg_bin=/usr/lib/postgresql/15/bin

die() { echo "run_pg_compare: $*" >&2; exit 1; }
[[ -x "$server_bin" ]] || die "no $server_bin: build it first (cmake --build $build_dir --target pg_server)"
[[ -x "$pg_bin/postgres" ]] || die "no PostgreSQL 15 in $pg_bin (Debian: apt-get install postgresql)"
command -v pgbench >/dev/null || die "no pgbench (Debian: apt-get install postgresql-contrib)"

server_cpu=() client_cpu=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c 1)
fi
as_pg=()
[[ $(id -u) -eq 0 ]] && as_pg=(runuser -u postgres --)

work=$(mktemp -d)
chmod 755 "$work"
pg_pid='' ours_pid=''
cleanup() {
  [[ -n $ours_pid ]] && kill "$ours_pid" 2>/dev/null || true
  [[ -n $pg_pid ]] && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pgdata" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# utime + stime + cutime + cstime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
ticks_per_s=$(getconf CLK_TCK)

# --- the two servers ---------------------------------------------------------------------------
pg_port=$(free_port)
mkdir "$work/pgdata" && chown postgres "$work/pgdata" 2>/dev/null || true
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pgdata" -A trust -U bench >/dev/null
"${server_cpu[@]}" "${as_pg[@]}" "$pg_bin/postgres" -D "$work/pgdata" -p "$pg_port" -k "$work/pgdata" \
  -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off >"$work/pg.log" 2>&1 &
for _ in $(seq 100); do
  pg_pid=$(head -n 1 "$work/pgdata/postmaster.pid" 2>/dev/null || true)
  [[ -n $pg_pid ]] && "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 0.1
done
[[ -n $pg_pid ]] || die "PostgreSQL did not start: $(cat "$work/pg.log")"

"${server_cpu[@]}" "$server_bin" --port 0 --workers 1 >"$work/ours.out" 2>"$work/ours.err" &
ours_pid=$!
for _ in $(seq 100); do [[ -s "$work/ours.out" ]] && break; sleep 0.05; done
[[ $(head -n 1 "$work/ours.out") =~ :([0-9]+)$ ]] || die "pg_server did not start"
ours_port=${BASH_REMATCH[1]}

values=$(seq 1000 | awk '{ printf "%s(%d, '\''value %d'\'')", (NR > 1 ? ", " : ""), $1, $1 }')
for port in "$pg_port" "$ours_port"; do
  psql -X -q -h 127.0.0.1 -p "$port" -U bench -d postgres -c "CREATE TABLE kv (k integer, v text)" \
    -c "INSERT INTO kv VALUES $values" >/dev/null
done
printf '%s\n' '\set k random(1, 1000)' 'SELECT v FROM kv WHERE k = :k;' >"$work/point.sql"

# --- point queries -----------------------------------------------------------------------------
# run_point NAME PORT PID CLIENTS: one pgbench run; prints "tps latency_ms cpu_us_per_tx".
run_point() {
  local before after out tps lat tx
  before=$(cpu_ticks "$3")
  out=$("${client_cpu[@]}" pgbench -n -M simple -h 127.0.0.1 -p "$2" -U bench -c "$4" -j 1 -T "$T" \
    -f "$work/point.sql" postgres 2>&1) || die "pgbench against $1: $out"
  sleep 0.5  # PostgreSQL's backends have ended and been reaped: their time is in cutime
  after=$(cpu_ticks "$3")
  tps=$(awk '/^tps = / { print $3; exit }' <<<"$out")
  lat=$(awk '/^latency average = / { print $4; exit }' <<<"$out")
  tx=$(awk '/^number of transactions actually processed: / { print $6; exit }' <<<"$out")
  awk -v a="$after" -v b="$before" -v hz="$ticks_per_s" -v tx="$tx" -v tps="$tps" -v lat="$lat" \
    'BEGIN { printf "%.0f %.3f %.1f\n", tps, lat, (a - b) / hz * 1e6 / tx }'
}

# --- streaming ---------------------------------------------------------------------------------
# run_stream NAME PORT PID: prints "seconds MB/s server_cpu_s".
run_stream() {
  local before after out
  before=$(cpu_ticks "$3")
  out=$("${client_cpu[@]}" python3 - "$2" "$ROWS" <<'PY'
import socket, struct, sys, time
port, rows = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
body = struct.pack("!I", 3 << 16) + b"user\0bench\0database\0postgres\0\0"
s.sendall(struct.pack("!I", len(body) + 4) + body)
def until_ready(s):
    tail, n, buf = b"", 0, bytearray(1 << 20)
    while True:
        got = s.recv_into(buf)
        if not got:
            raise SystemExit("closed")
        n += got
        tail = (tail + bytes(buf[:got]))[-6:]
        if tail[:1] == b"Z" and tail[1:5] == struct.pack("!I", 5):
            return n
until_ready(s)
q = f"SELECT * FROM generate_series(1, {rows})".encode() + b"\0"
start = time.monotonic()
s.sendall(b"Q" + struct.pack("!I", len(q) + 4) + q)
n = until_ready(s)
took = time.monotonic() - start
print(f"{took:.2f} {n / took / 1e6:.0f}")
PY
)
  sleep 0.5
  after=$(cpu_ticks "$3")
  awk -v a="$after" -v b="$before" -v hz="$ticks_per_s" -v out="$out" \
    'BEGIN { printf "%s %.2f\n", out, (a - b) / hz }'
}

echo "pg_server (1 worker) against PostgreSQL $("$pg_bin/postgres" --version | awk '{ print $3 }'), T=${T}s per run, $(nproc) cores"
echo
echo "point query (pgbench -M simple, 1000-row table, no index)"
printf '%-8s %-12s %12s %12s %16s\n' clients server "tx/s" "latency ms" "CPU us/tx"
for c in $C; do
  # Taking turns going first: neither always gets the colder cache.
  for side in postgres pg_server; do
    if [[ $side == postgres ]]; then read -r tps lat cpu < <(run_point "$side" "$pg_port" "$pg_pid" "$c")
    else read -r tps lat cpu < <(run_point "$side" "$ours_port" "$ours_pid" "$c"); fi
    printf '%-8s %-12s %12s %12s %16s\n' "$c" "$side" "$tps" "$lat" "$cpu"
  done
done
echo
echo "stream: SELECT * FROM generate_series(1, $ROWS), raw client"
printf '%-12s %10s %10s %16s\n' server seconds "MB/s" "server CPU s"
read -r s mb cpu < <(run_stream postgres "$pg_port" "$pg_pid")
printf '%-12s %10s %10s %16s\n' postgres "$s" "$mb" "$cpu"
read -r s mb cpu < <(run_stream pg_server "$ours_port" "$ours_pid")
printf '%-12s %10s %10s %16s\n' pg_server "$s" "$mb" "$cpu"
