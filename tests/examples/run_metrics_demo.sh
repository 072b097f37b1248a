#!/usr/bin/env bash
# --metrics-port as a user runs it: echo_server with its Prometheus endpoint on a free port,
# known traffic from echo_client, then curl scrapes /metrics and every count must match the
# traffic exactly (docs/observability.md). Two rounds: the counters add up across connections.
# Usage: run_metrics_demo.sh <echo_server> <echo_client>
set -euo pipefail
server_bin=$1 client_bin=$2
out=$(mktemp) scrape=$(mktemp)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$out" "$scrape"' EXIT

set -m  # a background job started without job control ignores SIGINT
"$server_bin" --port 0 --workers 2 --metrics-port 0 >"$out" &
pid=$!
set +m

for _ in $(seq 100); do  # up to 5 s for both lines
  [[ $(wc -l <"$out") -ge 2 ]] && break
  sleep 0.05
done
first=$(sed -n 1p "$out") second=$(sed -n 2p "$out")
[[ "$first" =~ ^listening\ on\ (.+):([0-9]+)$ ]] || { echo "bad first line: '$first'" >&2; exit 1; }
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
[[ "$second" =~ ^metrics\ on\ (.+):([0-9]+)$ ]] || { echo "bad second line: '$second'" >&2; exit 1; }
url="http://${BASH_REMATCH[1]}:${BASH_REMATCH[2]}/metrics"

fail() { echo "$*" >&2; echo "--- last scrape:" >&2; grep '^wireframe_' "$scrape" | grep -v _bucket >&2; exit 1; }
# The value of one series, exactly as written ("name{labels}"), or "missing".
value() { awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "missing" }' "$scrape"; }
expect() {
  local got; got=$(value "$1")
  [[ "$got" == "$2" ]] || fail "$1: expected $2, got $got"
}
# Scrapes until the connections have all closed (their last counts are in then), at most 5 s.
scrape_when_closed() {
  local closed=$1
  for _ in $(seq 100); do
    curl -sf --max-time 2 "$url" >"$scrape" || fail "curl $url failed"
    [[ $(value 'wireframe_connections_open') == 0 &&
       $(value 'wireframe_connections_closed_total{reason="clean"}') == "$closed" ]] && return 0
    sleep 0.05
  done
  fail "the connections did not all close"
}

frames=0
for round in 1 2; do
  timeout 20 "$client_bin" --host "$host" --port "$port" --count 25 --size 100 >/dev/null
  frames=$((frames + 25))
  scrape_when_closed "$round"
  bytes=$((frames * (4 + 12 + 100)))  # length prefix, envelope header, payload
  expect 'wireframe_connections_total{outcome="accepted"}' "$round"
  expect 'wireframe_connections_total{outcome="refused"}' 0
  expect 'wireframe_frames_total{direction="in"}' "$frames"
  expect 'wireframe_frames_total{direction="out"}' "$frames"
  expect 'wireframe_bytes_total{direction="in"}' "$bytes"
  expect 'wireframe_bytes_total{direction="out"}' "$bytes"
  expect 'wireframe_request_duration_seconds_count{route="1",outcome="ok"}' "$frames"
  expect 'wireframe_request_duration_seconds_bucket{route="1",outcome="ok",le="+Inf"}' "$frames"
  expect 'wireframe_request_duration_seconds_count{route="1",outcome="error"}' 0
  expect 'wireframe_queued_bytes{direction="out"}' 0
done
grep -qx '# TYPE wireframe_request_duration_seconds histogram' "$scrape" || fail "no histogram TYPE line"

kill -INT "$pid"
for _ in $(seq 100); do  # up to 5 s to stop
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then echo "echo_server ignored SIGINT" >&2; exit 1; fi
wait "$pid" && status=0 || status=$?
[[ $status -eq 0 ]] || { echo "echo_server exited with $status after SIGINT" >&2; exit 1; }
echo "metrics demo ok: $frames requests counted, scraped from $url"
