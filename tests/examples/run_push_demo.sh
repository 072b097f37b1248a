#!/usr/bin/env bash
# End-to-end check of the push demo as a user runs it: push_server on a free port with fast
# ticks, a subscriber push_client waiting for 3 messages on "news", 3 publisher clients, then
# SIGINT must stop the server cleanly (exit 0) and promptly. Loopback only; every wait bounded.
# Usage: run_push_demo.sh <push_server> <push_client>
set -euo pipefail
server_bin=$1 client_bin=$2
out=$(mktemp) sub_out=$(mktemp)
pid='' sub=''
trap 'kill -9 $pid $sub 2>/dev/null || true; rm -f "$out" "$sub_out"' EXIT
fail() { echo "push demo: $*" >&2; echo "--- subscriber output:" >&2; cat "$sub_out" >&2; exit 1; }

set -m  # a background job started without job control ignores SIGINT
"$server_bin" --port 0 --workers 2 --tick-ms 50 >"$out" &
pid=$!
set +m

for _ in $(seq 100); do  # up to 5 s for the first line
  [[ -s "$out" ]] && break
  sleep 0.05
done
first=$(head -n 1 "$out")
[[ "$first" =~ ^listening\ on\ (.+):([0-9]+)$ ]] || fail "bad first line: '$first'"
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}

# The subscriber: exits 0 once 3 messages on "news" have arrived (10 s deadline of its own).
timeout 20 "$client_bin" --host "$host" --port "$port" --topic news --count 3 >"$sub_out" &
sub=$!
for _ in $(seq 100); do  # up to 5 s until it is subscribed
  grep -q '^reply SUBSCRIBED topic=news$' "$sub_out" && break
  sleep 0.05
done
grep -q '^reply SUBSCRIBED topic=news$' "$sub_out" || fail "subscriber did not subscribe"
# A first tick (every 50 ms) before publishing: otherwise the subscriber may have its 3 messages
# and be gone before any tick came, and the tick check below would fail at random.
for _ in $(seq 100); do  # up to 5 s
  grep -q '^tick seq=[0-9]*$' "$sub_out" && break
  sleep 0.05
done

# Publishers (no subscription of their own): each message reaches exactly the one subscriber.
for n in 1 2 3; do
  reply=$(timeout 20 "$client_bin" --host "$host" --port "$port" --topic news \
            --publish "hello $n" --count 0) || fail "publisher $n failed"
  [[ "$reply" == "reply PUBLISHED topic=news reached=1" ]] || fail "publisher $n: '$reply'"
done
reply=$(timeout 20 "$client_bin" --host "$host" --port "$port" --topic sports \
          --publish "nobody listens" --count 0) || fail "sports publisher failed"
[[ "$reply" == "reply PUBLISHED topic=sports reached=0" ]] || fail "sports publisher: '$reply'"

wait "$sub" && status=0 || status=$?
sub=''
[[ $status -eq 0 ]] || fail "subscriber exited with $status"
for n in 1 2 3; do
  grep -qx "push id=100 topic=news message=hello $n" "$sub_out" || fail "message $n missing"
done
grep -q '^tick seq=[0-9]*$' "$sub_out" || fail "no tick received"
grep -q 'sports' "$sub_out" && fail "a message on another topic reached the subscriber"

kill -INT "$pid"
for _ in $(seq 100); do  # up to 5 s to stop
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then fail "push_server ignored SIGINT"; fi
wait "$pid" && status=0 || status=$?
pid=''
[[ $status -eq 0 ]] || fail "push_server exited with $status after SIGINT"
cat "$sub_out"
echo "push demo ok: $first"
