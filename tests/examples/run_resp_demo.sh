#!/usr/bin/env bash
# End-to-end check of resp_server as a user runs it: the server on a free port with 2 workers,
# redis-cli for each command (exact replies), a --pipe batch, raw pipelined and split requests
# over bash's /dev/tcp (exact bytes), malformed and oversized requests (that connection is
# closed, the server keeps serving others), then SIGINT must stop the server with exit 0.
# Loopback only; every wait is bounded.
# Usage: run_resp_demo.sh <resp_server>
set -euo pipefail
server_bin=$1
command -v redis-cli >/dev/null || { echo "resp demo: redis-cli not found" >&2; exit 1; }
out=$(mktemp) err=$(mktemp) batch=$(mktemp)
pid=''
trap 'if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi; rm -f "$out" "$err" "$batch"' EXIT
fail() { echo "resp demo: $*" >&2; echo "--- server stderr:" >&2; cat "$err" >&2; exit 1; }

set -m  # a background job started without job control ignores SIGINT
"$server_bin" --port 0 --workers 2 >"$out" 2>"$err" &
pid=$!
set +m

for _ in $(seq 100); do  # up to 5 s for the first line
  [[ -s "$out" ]] && break
  sleep 0.05
done
first=$(head -n 1 "$out")
[[ "$first" =~ ^listening\ on\ (.+):([0-9]+)$ ]] || fail "bad first line: '$first'"
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}

cli() { timeout 10 redis-cli --no-raw -h "$host" -p "$port" "$@"; }
expect() {  # expect '<reply>' <command...>: redis-cli's (non-raw) output must be exactly <reply>
  local want=$1 got
  shift
  got=$(cli "$@") || fail "redis-cli $* failed"
  [[ "$got" == "$want" ]] || fail "$*: expected '$want', got '$got'"
  echo "ok: ${*@Q} -> $got"
}

expect 'PONG' PING
expect 'PONG' ping
expect '"hello world"' PING 'hello world'
expect '"bytes \xe2\x82\xac\r\n"' ECHO $'bytes \xe2\x82\xac\r\n'
expect 'OK' SET greeting 'hi there'
expect '"hi there"' GET greeting
expect 'OK' SET greeting 'replaced'
expect '"replaced"' GET greeting
expect 'OK' SET empty ''
expect '""' GET empty
expect '(integer) 2' DEL greeting empty missing
expect '(nil)' GET greeting
expect '(nil)' GET never-set
expect "(error) ERR unknown command 'NOSUCHCMD'" NOSUCHCMD a b
expect "(error) ERR unknown command 'flushall'" flushall
expect "(error) ERR wrong number of arguments for 'get' command" GET
expect "(error) ERR wrong number of arguments for 'echo' command" ECHO a b
expect "(error) ERR wrong number of arguments for 'set' command" SET onlykey
expect '(error) ERR syntax error (SET options are not supported by this server)' SET k v EX 10

# A 3 MB value: arrives in many reads and leaves in one reply larger than a write batch.
head -c 2250000 /dev/urandom | base64 -w0 >"$batch"  # 3 000 000 bytes
got=$(cli -x SET big <"$batch") || fail "SET of a 3 MB value failed"
[[ "$got" == OK ]] || fail "SET big: got '$got'"
cmp -s <(timeout 20 redis-cli --raw -h "$host" -p "$port" GET big | head -c 3000000) "$batch" ||
  fail "GET big: the 3 MB value came back different"
expect '(integer) 1' DEL big
echo "ok: a 3 MB value, SET and GET"

# Line mode: one command per input line.
got=$(printf 'PING\r\nPING\r\n' | cli) || fail "redis-cli with commands on stdin failed"
[[ "$got" == $'PONG\nPONG' ]] || fail "stdin commands: got '$got'"
echo "ok: 2 commands on stdin"

# --pipe: 1000 requests written back to back (multibulk and inline mixed), replies counted.
for i in $(seq 500); do
  printf '*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue:%d\r\n' $((4 + ${#i})) "$i" $((6 + ${#i})) "$i"
  printf 'SET inline:%d v%d\r\n' "$i" "$i"
done >"$batch"
got=$(timeout 20 redis-cli -h "$host" -p "$port" --pipe <"$batch" 2>&1) || fail "--pipe failed: $got"
[[ "$got" == *"errors: 0, replies: 1000"* ]] || fail "--pipe: $got"
echo "ok: --pipe, 1000 replies"
expect '"value:500"' GET key:500
expect '"v250"' GET inline:250

# Raw connections through bash's /dev/tcp: exact bytes, compared as hex.
hex() { od -An -v -tx1 | tr -d ' \n'; }
open_conn() { exec 3<>"/dev/tcp/$host/$port" || fail "cannot connect"; }
close_conn() { exec 3>&- 3<&-; }
read_exact() {  # read_exact <what> <expected bytes (printf format)>
  local want got
  want=$(printf "$2" | hex)
  got=$(timeout 5 head -c $(( ${#want} / 2 )) <&3 | hex) || true
  [[ "$got" == "$want" ]] || fail "$1: expected $want, got '$got'"
  echo "ok: $1"
}
expect_closed() {  # the server must close this connection, sending nothing
  local got rc=0
  # cat ends at EOF, or with ECONNRESET when the server closed with our bytes still unread.
  got=$(timeout 5 cat <&3 2>/dev/null | hex) || rc=$?
  [[ $rc -ne 124 ]] || fail "$1: connection still open after 5 s"
  [[ -z "$got" ]] || fail "$1: unexpected reply $got"
  echo "ok: $1 closes the connection"
  close_conn
}

open_conn  # pipelined: 6 requests in one write, replies in order
printf 'PING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nGET never-set\nDEL a b\r\n\r\n*0\r\nping "two words"\r\n' >&3
read_exact "pipelined requests" '+PONG\r\n$3\r\nabc\r\n$-1\r\n:0\r\n$9\r\ntwo words\r\n'
printf '*2\r\n$4\r\nEC' >&3  # one request split over three writes
sleep 0.1
printf 'HO\r\n$5\r\nhel' >&3
sleep 0.1
printf 'lo\r\n' >&3
read_exact "request split over writes" '$5\r\nhello\r\n'
printf 'QUIT\r\n' >&3
read_exact "QUIT" '+OK\r\n'
expect_closed "after QUIT"

open_conn
printf '*1\r\n$999999999999\r\n' >&3
expect_closed 'a 999999999999-byte bulk'
open_conn  # refused from its digits alone: the CRLF never comes
printf '*1\r\n$99999999999' >&3
expect_closed 'a bulk length above the limit, line unfinished'
open_conn
printf '*99999999999\r\n' >&3
expect_closed 'a 99999999999-element array'
open_conn
printf '*65537\r\n' >&3
expect_closed 'an array above the 65536-argument default'
open_conn
printf '*2\r\n$4\r\nECHO\r\nx\r\n' >&3
expect_closed "an element that is not a bulk string"
open_conn
printf '*1\r\n$4\r\nPINGxx' >&3
expect_closed "a bulk string without its CRLF"
open_conn
{ head -c 70000 /dev/zero | tr '\0' 'a' >&3; } 2>/dev/null || true  # the server may close first
expect_closed "a 70000-byte inline line"
open_conn
printf 'ECHO "unbalanced\r\n' >&3
expect_closed "unbalanced quotes"

expect 'PONG' PING  # the server still serves everyone else
grep -q 'Protocol error' "$err" || fail "the protocol errors were not logged"

kill -INT "$pid"
for _ in $(seq 100); do  # up to 5 s to stop
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then fail "resp_server ignored SIGINT"; fi
wait "$pid" && status=0 || status=$?
pid=''
[[ $status -eq 0 ]] || fail "resp_server exited with $status after SIGINT"
echo "resp demo ok: $first"
