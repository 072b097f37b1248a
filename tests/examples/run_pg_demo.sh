#!/usr/bin/env bash
# pg_server as a user runs it, driven by the real psql (Debian's postgresql-client): one server
# on a free port with 2 workers, a password, TLS on request (SSLRequest) and a Unix socket
# directory. Over TCP: table statements with exact output, an error that leaves the session
# going, a wrong password, a million streamed rows, a query cancelled by psql itself (SIGINT
# makes psql send a CancelRequest on a second connection). Over TLS (sslmode=require) and over
# the Unix socket (psql -h DIR): a query each, and \conninfo says how psql is connected. SIGINT
# stops the server with status 0. Loopback only; every wait is bounded.
# Usage: run_pg_demo.sh <pg_server> <make_test_certs.sh>
set -euo pipefail
server_bin=$1 make_certs=$2
command -v psql >/dev/null || { echo "pg demo: psql not found (Debian package postgresql-client)" >&2; exit 1; }
dir=$(mktemp -d)
pid=''
trap 'if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi; rm -rf "$dir"' EXIT
fail() { echo "pg demo: $*" >&2; echo "--- server stderr:" >&2; cat "$dir/err" >&2; exit 1; }

bash "$make_certs" "$dir/certs" || fail "could not make the test certificates"
mkdir "$dir/sock"

set -m  # a background job started without job control ignores SIGINT
"$server_bin" --port 0 --workers 2 --password s3cret --unix-dir "$dir/sock" \
  --tls-cert "$dir/certs/server.crt" --tls-key "$dir/certs/server.key" >"$dir/out" 2>"$dir/err" &
pid=$!
set +m
for _ in $(seq 100); do  # up to 5 s for both lines
  [[ $(wc -l <"$dir/out") -ge 2 ]] && break
  sleep 0.05
done
first=$(sed -n 1p "$dir/out") second=$(sed -n 2p "$dir/out")
[[ "$first" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)\ \(TLS\ on\ request\)$ ]] || fail "bad first line: '$first'"
port=${BASH_REMATCH[1]}
[[ "$second" == "listening on unix:$dir/sock/.s.PGSQL.$port" ]] || fail "bad second line: '$second'"

# psql without ~/.psqlrc, unaligned, tuples only, stopping at the first error.
export PGPASSWORD=s3cret PGCONNECT_TIMEOUT=5
tcp="host=127.0.0.1 port=$port user=alice dbname=demo sslmode=disable"
q() { timeout 20 psql -X -A -t -v ON_ERROR_STOP=1 "$tcp" "$@"; }
expect() {  # expect '<output>' <psql args...>
  local want=$1 got
  shift
  got=$(q "$@" 2>&1) || fail "psql $* failed: $got"
  [[ "$got" == "$want" ]] || fail "psql $*: expected '$want', got '$got'"
  echo "ok: psql ${*@Q}"
}

expect 'CREATE TABLE' -c "CREATE TABLE people (id integer, name text)"
expect 'INSERT 0 3' -c "INSERT INTO people VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger')"
expect $'1|ada\n2|grace\n3|edsger' -c "SELECT * FROM people"
expect 'grace' -c "SELECT name FROM people WHERE id = 2"
expect 'DELETE 1' -c "DELETE FROM people WHERE name = 'ada'"
expect $'2\n3' -c "SELECT id FROM people"
expect "1|it's" -c "SELECT 1, 'it''s'"
expect 'alice' -c "SHOW session_authorization"

# An error is reported with its SQLSTATE's message, and the session goes on (psql -f, no stop).
printf '%s\n' "SELECT * FROM nosuch;" "SELECT count FROM people;" "SELECT name FROM people WHERE id = 3;" >"$dir/script.sql"
got=$(timeout 20 psql -X -A -t "$tcp" -f "$dir/script.sql" 2>&1) || true
[[ "$got" == *'ERROR:  relation "nosuch" does not exist'* ]] || fail "missing-table error: '$got'"
[[ "$got" == *'ERROR:  column "count" does not exist'* ]] || fail "missing-column error: '$got'"
[[ "$got" == *$'\nedsger' ]] || fail "the session did not go on after its errors: '$got'"
echo "ok: errors, then the same session answers"
got=$(q -c "SELEC 1" 2>&1) && fail "a syntax error succeeded"
[[ "$got" == *'ERROR:  syntax error at or near "SELEC"'* ]] || fail "syntax error: '$got'"
echo "ok: syntax error"

got=$(PGPASSWORD=wrong q -c "SELECT 1" 2>&1) && fail "a wrong password was accepted"
[[ "$got" == *'password authentication failed for user "alice"'* ]] || fail "wrong password: '$got'"
echo "ok: a wrong password is refused"

# A million rows, streamed: every one arrives, in order.
got=$(q -c "SELECT * FROM generate_series(1, 1000000)" | awk 'NR != $1 { bad = 1 } END { print NR, bad + 0 }')
[[ "$got" == "1000000 0" ]] || fail "generate_series: rows and order: '$got'"
echo "ok: a million streamed rows"

# psql sends a CancelRequest when interrupted: the endless query stops with 57014.
set -m
timeout 30 psql -X -A -t "$tcp" -c "SELECT * FROM generate_series(1, 9000000000000000000)" \
  >/dev/null 2>"$dir/cancel.err" &
psql_pid=$!
set +m
sleep 1
kill -INT "$psql_pid"
wait "$psql_pid" && fail "the cancelled query succeeded"
grep -q 'ERROR:  canceling statement due to user request' "$dir/cancel.err" ||
  fail "cancel: $(cat "$dir/cancel.err")"
echo "ok: psql cancels a running query"

# TLS through SSLRequest, and the Unix socket.
got=$(timeout 20 psql -X -A -t "host=127.0.0.1 port=$port user=alice dbname=demo sslmode=require" \
  -c "SELECT name FROM people WHERE id = 2" -c '\conninfo' 2>&1) || fail "sslmode=require: $got"
[[ "$got" == grace$'\n'*'SSL connection (protocol: TLSv1.3'* ]] || fail "sslmode=require: '$got'"
echo "ok: psql with sslmode=require"
got=$(timeout 20 psql -X -A -t -h "$dir/sock" -p "$port" -U alice -d demo -c "SELECT name FROM people WHERE id = 3" \
  -c '\conninfo' 2>&1) || fail "unix socket: $got"
[[ "$got" == edsger$'\n'*"via socket in \"$dir/sock\""* ]] || fail "unix socket: '$got'"
echo "ok: psql over the Unix socket"

kill -INT "$pid"
for _ in $(seq 100); do  # up to 5 s to stop
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
status=0
wait "$pid" || status=$?
pid=''
[[ $status -eq 0 ]] || fail "the server exited with $status after SIGINT"
[[ ! -e "$dir/sock/.s.PGSQL.$port" ]] || fail "the socket file was left behind"
echo "ok: SIGINT stops the server, exit 0"
