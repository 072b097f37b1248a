#!/usr/bin/env bash
# The blob demo as a user runs it: blob_server on a free port, blob_client uploading and
# downloading 2 blobs of 5 MiB (each travels as ~161 fragments of at most 32 KiB), then SIGINT
# stops the server. The exit status is the client's; if the client succeeded, a server that does
# not stop cleanly (exit 0 within 5 s) fails the demo too. Loopback only; every wait is bounded.
#
# Usage: run_blob_demo.sh [<blob_server> <blob_client> [client flags...]]
#   default binaries: build/debug/blob_server and build/debug/blob_client;
#   default client flags: --size 5242880 --count 2
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
server_bin=${1:-$here/build/debug/blob_server}
client_bin=${2:-$here/build/debug/blob_client}
shift $(( $# < 2 ? $# : 2 ))
client_args=("$@")
[[ ${#client_args[@]} -gt 0 ]] || client_args=(--size 5242880 --count 2)

out=$(mktemp) log=$(mktemp)
pid=''
trap 'if [[ -n "$pid" ]]; then kill -9 "$pid" 2>/dev/null || true; fi; rm -f "$out" "$log"' EXIT
fail() {
  echo "blob demo: $*" >&2
  echo "--- server log:" >&2
  cat "$log" >&2
  exit 1
}

set -m  # a background job started without job control ignores SIGINT
"$server_bin" --port 0 --workers 2 >"$out" 2>"$log" &
pid=$!
set +m

for _ in $(seq 100); do  # up to 5 s for the first line
  [[ -s "$out" ]] && break
  sleep 0.05
done
first=$(head -n 1 "$out")
[[ "$first" =~ ^listening\ on\ (.+):([0-9]+)$ ]] || fail "bad first line: '$first'"
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}

# The client has a 60 s deadline of its own; timeout(1) is a second guard.
status=0
timeout 90 "$client_bin" --host "$host" --port "$port" "${client_args[@]}" || status=$?

kill -INT "$pid"
for _ in $(seq 100); do  # up to 5 s to stop
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then
  [[ $status -ne 0 ]] || fail "blob_server ignored SIGINT"
else
  server_status=0
  wait "$pid" || server_status=$?
  pid=''
  [[ $status -ne 0 || $server_status -eq 0 ]] || fail "blob_server exited with $server_status after SIGINT"
fi
if [[ $status -ne 0 ]]; then
  echo "blob demo: blob_client exited with $status" >&2
  echo "--- server log:" >&2
  cat "$log" >&2
  exit "$status"
fi
echo "blob demo ok: $first"
