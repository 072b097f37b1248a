#!/usr/bin/env bash
# End-to-end check of the demo as a user runs it: echo_server on a free port, echo_client
# against it, then SIGINT must stop the server cleanly (exit 0) and promptly.
# Usage: run_echo_demo.sh <echo_server> <echo_client>
set -euo pipefail
server_bin=$1 client_bin=$2
out=$(mktemp)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

set -m  # a background job started without job control ignores SIGINT
"$server_bin" --port 0 --workers 2 >"$out" &
pid=$!
set +m

for _ in $(seq 100); do  # up to 5 s for the first line
  [[ -s "$out" ]] && break
  sleep 0.05
done
first=$(head -n 1 "$out")
[[ "$first" =~ ^listening\ on\ (.+):([0-9]+)$ ]] || { echo "bad first line: '$first'" >&2; exit 1; }
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}

timeout 20 "$client_bin" --host "$host" --port "$port" --count 5 --size 3000

kill -INT "$pid"
for _ in $(seq 100); do  # up to 5 s to stop
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then echo "echo_server ignored SIGINT" >&2; exit 1; fi
wait "$pid" && status=0 || status=$?
[[ $status -eq 0 ]] || { echo "echo_server exited with $status after SIGINT" >&2; exit 1; }
echo "demo ok: $first"
