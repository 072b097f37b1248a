#!/usr/bin/env bash
# Compares examples/mqtt_broker with Debian's mosquitto 2.0 under the same fan-out load from
# bench/mqtt_fanout (its header comment says what it counts):
#   a  100 subscribers, 4 publishers, QoS 0, 64 B, as fast as possible (bounded by mqtt_fanout's
#      --max-lag: a throughput case, its latency is that of a full pipeline)
#   b  the same at QoS 1 (subscribers PUBACK, publishers keep 100 PUBLISHes in flight)
#   c  1000 subscribers, 1 publisher, QoS 0, LATENCY_RATE messages/s: latency. The default 1000
#      is 10^6 deliveries/s, beyond mosquitto here (30 000 to 75 000/s measured, machine busy):
#      it then measures an overload (sent falls short, latency is mqtt_fanout's --max-lag
#      queue); LATENCY_RATE=20 is a latency case that both brokers should sustain.
# Each case runs ROUNDS times against each broker, the brokers taking turns going first, so that
# noise on this shared machine hits both; the table shows medians over the rounds. Each broker's
# CPU time (utime + stime from /proc/PID/stat, before and after each run) is divided by the
# deliveries of the run: on a busy 2-core machine the rates move with whatever else runs, CPU
# per delivery much less, so trust that and the ratios. Both brokers are pinned to CPU 0 and
# mqtt_fanout to CPU 1 when taskset exists.
#
# mosquitto gets a throwaway config: anonymous, no persistence, max_queued_messages 1000 (beyond
# that it drops a subscriber's QoS 1 messages; QoS 0 ones it queues without bound), and
# set_tcp_nodelay true: without it mosquitto leaves Nagle on for its clients and a 1000 msg/s
# stream waits for delayed ACKs (p50 8 ms instead of 0.3 ms here); connection logging off.
# Debian's mosquitto 2.0.11 sometimes strands the last few dozen QoS 1 messages of each
# subscriber in its queue at the end of case b (every PUBLISH it sent was acknowledged; its log
# shows it received more than it sent; inflight-quota fixes came in 2.0.13): that shows as
# `lost` with mqtt_fanout's gaps=0, not as a fault of the load.
#
# Usage: bench/run_mqtt_fanout.sh BUILD_DIR     (mqtt_fanout and mqtt_broker built there; without
#                                               mqtt_broker only mosquitto is measured)
# Environment: DURATION=5 (measured seconds per run, after 1 s of warmup), ROUNDS=3,
#              WORKERS=1 (mqtt_broker --workers; mosquitto is single-threaded), LATENCY_RATE=1000
# Needs mosquitto (Debian: apt-get install mosquitto) and python3 (to pick free ports).
set -euo pipefail

die() { echo "run_mqtt_fanout: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: bench/run_mqtt_fanout.sh BUILD_DIR"
BUILD_DIR=$1
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-1}
LATENCY_RATE=${LATENCY_RATE:-1000}
for knob in DURATION ROUNDS WORKERS LATENCY_RATE; do
  [[ ${!knob} =~ ^[1-9][0-9]*$ ]] || die "$knob must be a whole number above 0, not '${!knob}'"
done

find_bin() {  # name -> path of the executable under BUILD_DIR
  local p
  for p in "$BUILD_DIR/$1" "$BUILD_DIR/bench/$1" "$BUILD_DIR/examples/$1"; do
    if [[ -x $p && -f $p ]]; then echo "$p"; return 0; fi
  done
  return 1
}
FANOUT=$(find_bin mqtt_fanout) || die "no mqtt_fanout under $BUILD_DIR (cmake --build $BUILD_DIR --target mqtt_fanout)"
MOSQUITTO=$(command -v mosquitto || true)
[[ -n $MOSQUITTO ]] || MOSQUITTO=/usr/sbin/mosquitto
[[ -x $MOSQUITTO ]] || die "no mosquitto (Debian: apt-get install mosquitto)"
OURS=$(find_bin mqtt_broker || true)

SERVER_CPU=() CLIENT_CPU=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  SERVER_CPU=(taskset -c 0)
  CLIENT_CPU=(taskset -c 1)
fi
# 1000 subscribers take 1000 descriptors in the broker and in mqtt_fanout.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d)
mosq_pid='' ours_pid=''
cleanup() {
  local pid
  for pid in $mosq_pid $ours_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in $mosq_pid $ours_pid; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# utime + stime of a process, in clock ticks (fields 14 and 15; the name in field 2 may hold spaces).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
ticks_per_s=$(getconf CLK_TCK)

# --- the brokers -------------------------------------------------------------------------------
mosq_port=$(free_port)
{
  echo "listener $mosq_port 127.0.0.1"
  echo "allow_anonymous true"
  echo "persistence false"
  echo "max_queued_messages 1000"
  echo "set_tcp_nodelay true"
  echo "connection_messages false"
  echo "log_type error"
  echo "log_type warning"
  echo "log_dest stderr"
  # As root, mosquitto switches to the user `mosquitto` unless told to stay.
  if [[ $(id -u) -eq 0 ]]; then echo "user root"; fi
} >"$work/mosquitto.conf"
"${SERVER_CPU[@]}" "$MOSQUITTO" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
mosq_pid=$!
for _ in $(seq 100); do
  kill -0 "$mosq_pid" 2>/dev/null || die "mosquitto exited: $(cat "$work/mosquitto.log")"
  (exec 3<>"/dev/tcp/127.0.0.1/$mosq_port") 2>/dev/null && break
  sleep 0.05
done
(exec 3<>"/dev/tcp/127.0.0.1/$mosq_port") 2>/dev/null || die "mosquitto did not listen in 5 s: $(cat "$work/mosquitto.log")"

BROKERS=(mosquitto)
if [[ -n $OURS ]]; then
  "${SERVER_CPU[@]}" "$OURS" --port 0 --workers "$WORKERS" >"$work/ours.out" 2>"$work/ours.err" &
  ours_pid=$!
  for _ in $(seq 100); do [[ -s "$work/ours.out" ]] && break; sleep 0.05; done
  [[ $(head -n 1 "$work/ours.out") =~ :([0-9]+)$ ]] || die "mqtt_broker did not start: $(cat "$work/ours.err")"
  ours_port=${BASH_REMATCH[1]}
  BROKERS+=(mqtt_broker)
else
  echo "run_mqtt_fanout: NOTE: no mqtt_broker under $BUILD_DIR (cmake --build $BUILD_DIR --target mqtt_broker): measuring mosquitto only" >&2
fi

# --- one run -----------------------------------------------------------------------------------
declare -A CASE_ARGS=(
  [a]="--subscribers 100 --publishers 4 --qos 0 --payload 64 --rate 0"
  [b]="--subscribers 100 --publishers 4 --qos 1 --payload 64 --rate 0"
  [c]="--subscribers 1000 --publishers 1 --qos 0 --payload 64 --rate $LATENCY_RATE"
)
CASES=(a b c)
kv() { awk -v k="$1" '{ for (i = 1; i <= NF; ++i) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }'; }

# run CASE BROKER ROUND: one mqtt_fanout run; appends
# "case broker round msgs_per_s p50_us p99_us lost cpu_s_per_M_deliveries" to $work/results.
run() {
  local port pid before after out line received
  if [[ $2 == mosquitto ]]; then port=$mosq_port pid=$mosq_pid; else port=$ours_port pid=$ours_pid; fi
  kill -0 "$pid" 2>/dev/null || die "$2 is gone: $(cat "$work/$([[ $2 == mosquitto ]] && echo mosquitto.log || echo ours.err)")"
  before=$(cpu_ticks "$pid")
  # shellcheck disable=SC2086  # CASE_ARGS are words on purpose
  if ! out=$(timeout $((DURATION + 40)) "${CLIENT_CPU[@]}" "$FANOUT" --port "$port" --duration "$DURATION" \
      ${CASE_ARGS[$1]} 2>"$work/fanout.err"); then
    echo "run_mqtt_fanout: case $1 against $2 (round $3) failed: $(head -c 600 "$work/fanout.err")" >&2
  fi
  sleep 0.2  # the broker has seen the DISCONNECTs
  after=$(cpu_ticks "$pid")
  line=$(grep '^subscribers=' <<<"$out" || true)
  [[ -n $line ]] || return 0  # no result: the failure is reported above, the round is skipped
  received=$(kv received_total <<<"$line")
  echo "$1 $2 $3 $(kv msgs_per_s <<<"$line") $(kv p50_us <<<"$line") $(kv p99_us <<<"$line") $(kv lost <<<"$line")" \
    "$(awk -v a="$after" -v b="$before" -v hz="$ticks_per_s" -v n="$received" \
      'BEGIN { if (n > 0) printf "%.2f", (a - b) / hz / n * 1e6; else print "nan" }')" >>"$work/results"
  echo "  $1 $2 round $3: $line" >&2
}

echo "mqtt_fanout: ${DURATION} s per run after 1 s of warmup, $ROUNDS rounds, $(nproc) cores," \
  "$([[ ${#SERVER_CPU[@]} -gt 0 ]] && echo "brokers on CPU 0, mqtt_fanout on CPU 1" || echo unpinned)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mosquitto $("$MOSQUITTO" -h 2>/dev/null | awk '/^mosquitto version/ { print $3; exit }')$([[ -n $OURS ]] && echo ", mqtt_broker --workers $WORKERS")"
: >"$work/results"
for round in $(seq "$ROUNDS"); do
  order=("${BROKERS[@]}")
  if ((round % 2 == 0 && ${#BROKERS[@]} == 2)); then order=("${BROKERS[1]}" "${BROKERS[0]}"); fi
  for c in "${CASES[@]}"; do
    for broker in "${order[@]}"; do run "$c" "$broker" "$round"; done
  done
done

# --- the table ---------------------------------------------------------------------------------
# median CASE BROKER COLUMN (4 = msgs/s .. 8 = CPU): over the rounds that gave a result.
median() {
  local format=%.0f
  [[ $3 -eq 8 ]] && format=%.2f
  awk -v c="$1" -v b="$2" -v col="$3" '$1 == c && $2 == b && $col != "nan" { print $col }' "$work/results" |
    sort -g | awk -v f="$format" '{ v[NR] = $1 }
      END { if (NR == 0) print "-"; else printf f "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo
printf '%-4s %-12s %12s %10s %10s %10s %16s\n' case broker "msgs/s" "p50 us" "p99 us" "lost" "CPU s/M deliv."
for c in "${CASES[@]}"; do
  for broker in "${BROKERS[@]}"; do
    printf '%-4s %-12s %12s %10s %10s %10s %16s\n' "$c" "$broker" "$(median "$c" "$broker" 4)" \
      "$(median "$c" "$broker" 5)" "$(median "$c" "$broker" 6)" "$(median "$c" "$broker" 7)" "$(median "$c" "$broker" 8)"
  done
  if ((${#BROKERS[@]} == 2)); then
    printf '%-4s %-12s %12s %10s %10s %10s %16s\n' "$c" "ours/mosq" \
      "$(ratio "$(median "$c" mqtt_broker 4)" "$(median "$c" mosquitto 4)")" \
      "$(ratio "$(median "$c" mqtt_broker 5)" "$(median "$c" mosquitto 5)")" \
      "$(ratio "$(median "$c" mqtt_broker 6)" "$(median "$c" mosquitto 6)")" "" \
      "$(ratio "$(median "$c" mqtt_broker 8)" "$(median "$c" mosquitto 8)")"
  fi
done
echo "cases: a = 100 subscribers, 4 publishers, QoS 0, as fast as possible; b = the same at QoS 1;"
echo "       c = 1000 subscribers, 1 publisher, QoS 0, $LATENCY_RATE msg/s. lost = sent * subscribers - delivered"
echo "       (medians over rounds); CPU = broker CPU seconds per 10^6 deliveries, connecting and"
echo "       subscribing included (lower is better)."
