#!/usr/bin/env bash
# TLS as a user runs it: echo_server --tls-cert/--tls-key, with certificates made for this run.
# openssl s_client (Debian's, not ours) sends one envelope as raw bytes and must read the same
# bytes back; echo_client --tls-ca checks five more; a client trusting another CA is refused.
# With --tls-ca the server requires client certificates (mutual TLS): only the CA's clients
# (echo_client and s_client) get through, and the server logs why the others were refused.
# A plaintext client on the TLS port is closed at once and the server goes on serving. SIGINT
# stops the server with status 0.
# Usage: run_tls_demo.sh <echo_server> <echo_client> <make_test_certs.sh>
set -euo pipefail
server_bin=$1 client_bin=$2 make_certs=$3
command -v openssl >/dev/null || { echo "openssl is missing (Debian package openssl)" >&2; exit 1; }
dir=$(mktemp -d)
pid=
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$dir"' EXIT

fail() { echo "$*" >&2; exit 1; }

bash "$make_certs" "$dir/certs" || fail "could not make the test certificates"
certs=$dir/certs

start_server() {  # start_server [extra flags]
  : >"$dir/out"  # emptied here, not by the child's redirection: the wait below must not see the last run's line
  set -m  # a background job started without job control ignores SIGINT
  "$server_bin" --port 0 --workers 2 --tls-cert "$certs/server.crt" --tls-key "$certs/server.key" "$@" \
    >"$dir/out" 2>"$dir/err" &
  pid=$!
  set +m
  for _ in $(seq 100); do  # up to 5 s for the first line
    [[ -s "$dir/out" ]] && break
    sleep 0.05
  done
  local first
  first=$(head -n 1 "$dir/out")
  [[ "$first" =~ ^listening\ on\ tls:127\.0\.0\.1:([0-9]+)$ ]] ||
    { cat "$dir/err" >&2; fail "bad first line: '$first'"; }
  port=${BASH_REMATCH[1]}
}

stop_server() {  # SIGINT, then up to 5 s to exit with status 0
  kill -INT "$pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then fail "echo_server ignored SIGINT"; fi
  local status
  wait "$pid" && status=0 || status=$?
  [[ $status -eq 0 ]] || fail "echo_server exited with $status after SIGINT"
}

client() {  # client [flags]: echo_client against the server, five frames of 3000 bytes
  timeout 20 "$client_bin" --host 127.0.0.1 --port "$port" --count 5 --size 3000 "$@"
}

refused() {  # refused NAME PATTERN [flags]: echo_client must fail, saying PATTERN on stderr
  local name=$1 pattern=$2
  shift 2
  if client "$@" >/dev/null 2>"$dir/client_err"; then fail "$name: echo_client succeeded"; fi
  grep -qi -- "$pattern" "$dir/client_err" ||
    { cat "$dir/client_err" >&2; fail "$name: no '$pattern' in the error"; }
}

# wait_log PATTERN: up to 5 s for the server's log to show it (the client may hear of a refusal
# before the server has logged it)
wait_log() {
  for _ in $(seq 100); do
    grep -q -- "$1" "$dir/err" && return 0
    sleep 0.05
  done
  cat "$dir/err" >&2
  fail "the server did not log '$1'"
}

# One envelope through s_client: body length 17, message id 1, correlation id 7, payload
# "hello". s_client ends at its stdin's end (-no_ign_eof), so stdin stays open until the reply
# is in (at most 5 s): ending it sooner could end s_client before the reply arrives.
s_client_check() {  # s_client_check [s_client flags]
  printf '\x00\x00\x00\x11\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x07hello' >"$dir/request"
  : >"$dir/reply"
  # shellcheck disable=SC2094  # reading the reply while s_client writes it is the point
  {
    cat "$dir/request"
    for _ in $(seq 100); do
      [[ $(wc -c <"$dir/reply") -ge 21 ]] && break
      sleep 0.05
    done
  } | timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$certs/ca.crt" \
        -verify_return_error -servername localhost -verify_hostname localhost -quiet -no_ign_eof "$@" \
        >"$dir/reply" 2>"$dir/s_client_err" ||
    { cat "$dir/s_client_err" >&2; fail "openssl s_client failed"; }
  if ! cmp -s "$dir/request" "$dir/reply"; then
    od -An -tx1 "$dir/reply" >&2
    fail "s_client's reply differs from its request"
  fi
}

# --- TLS: the server proves who it is ---------------------------------------------------------
start_server
s_client_check
client --tls-ca "$certs/ca.crt" >/dev/null || fail "echo_client over TLS failed"
client --host localhost --tls-ca "$certs/ca.crt" --count 1 >/dev/null ||
  fail "echo_client to localhost failed"
refused "a client trusting another CA" certificate --tls-ca "$certs/rogue_ca.crt"

# A plaintext client on the TLS port: its connection is closed at once (no wait for a timeout),
# and TLS clients are still served.
start_ns=$(date +%s%N)
if client --count 1 >/dev/null 2>&1; then fail "a plaintext client was served on the TLS port"; fi
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
(( elapsed_ms < 3000 )) || fail "the plaintext client waited ${elapsed_ms} ms to be closed"
client --tls-ca "$certs/ca.crt" >/dev/null ||
  fail "echo_client over TLS failed after a plaintext client"
stop_server

# --- mutual TLS: the client proves who it is too ----------------------------------------------
start_server --tls-ca "$certs/ca.crt"
client --tls-ca "$certs/ca.crt" --tls-cert "$certs/client.crt" --tls-key "$certs/client.key" >/dev/null ||
  fail "echo_client with the CA's client certificate failed"
s_client_check -cert "$certs/client.crt" -key "$certs/client.key"
refused "a client without a certificate" certificate --tls-ca "$certs/ca.crt"
wait_log "TLS handshake failed: peer did not return a certificate"
# (TLS 1.3: the client learns of the refusal from the server's alert, "unknown ca".)
refused "a client with a rogue certificate" "unknown ca\|certificate" \
  --tls-ca "$certs/ca.crt" --tls-cert "$certs/rogue_client.crt" --tls-key "$certs/rogue_client.key"
wait_log "TLS handshake failed: certificate verify failed"
stop_server
echo "tls demo ok"
