#!/usr/bin/env bash
# Unix domain sockets as a user runs them: echo_server --unix PATH, then two clients. socat
# (Debian's, not ours) sends one envelope as raw bytes and must read the same bytes back;
# echo_client --unix checks five more. A second server on the live path is refused and leaves
# the file alone; SIGINT stops the server and removes its socket file; the file a server killed
# with SIGKILL leaves behind is replaced by the next server.
# Usage: run_unix_demo.sh <echo_server> <echo_client>
set -euo pipefail
server_bin=$1 client_bin=$2
command -v socat >/dev/null || { echo "socat is missing (Debian package socat; .ci/test installs it)" >&2; exit 1; }
dir=$(mktemp -d)
sock=$dir/echo.sock
pid=
trap 'kill -9 $pid 2>/dev/null || true; rm -rf "$dir"' EXIT

start_server() {
  : >"$dir/out"  # emptied here, not by the child's redirection: the wait below must not see the last run's line
  set -m  # a background job started without job control ignores SIGINT
  "$server_bin" --unix "$sock" --workers 2 >"$dir/out" 2>"$dir/err" &
  pid=$!
  set +m
  for _ in $(seq 100); do  # up to 5 s for the first line
    [[ -s "$dir/out" ]] && break
    sleep 0.05
  done
  local first
  first=$(head -n 1 "$dir/out")
  [[ "$first" == "listening on unix:$sock" ]] || { echo "bad first line: '$first'" >&2; cat "$dir/err" >&2; exit 1; }
  [[ -S "$sock" ]] || { echo "no socket file at $sock" >&2; exit 1; }
}

wait_exit() {  # up to 5 s
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then echo "echo_server did not stop" >&2; exit 1; fi
  wait "$pid" && status=0 || status=$?
}

echo_checks() {
  # One envelope: body length 17, message id 1, correlation id 7, payload "hello".
  printf '\x00\x00\x00\x11\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x07hello' >"$dir/request"
  timeout 10 socat -t 5 - "UNIX-CONNECT:$sock" <"$dir/request" >"$dir/reply"
  if ! cmp -s "$dir/request" "$dir/reply"; then
    echo "socat's reply differs from its request:" >&2
    od -An -tx1 "$dir/reply" >&2
    exit 1
  fi
  timeout 20 "$client_bin" --unix "$sock" --count 5 --size 3000 >/dev/null
}

start_server
echo_checks

if timeout 5 "$server_bin" --unix "$sock" >/dev/null 2>"$dir/err2"; then
  echo "a second server took a live server's socket path" >&2
  exit 1
fi
grep -q "cannot listen on unix:$sock" "$dir/err2" || { echo "no reason given:" >&2; cat "$dir/err2" >&2; exit 1; }
[[ -S "$sock" ]] || { echo "the refused server removed the live socket file" >&2; exit 1; }

kill -INT "$pid"
wait_exit
[[ $status -eq 0 ]] || { echo "echo_server exited with $status after SIGINT" >&2; exit 1; }
[[ ! -e "$sock" ]] || { echo "the socket file outlived the server" >&2; exit 1; }

start_server
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
[[ -S "$sock" ]] || { echo "expected a stale socket file after SIGKILL" >&2; exit 1; }
start_server  # replaces the stale file
echo_checks
kill -INT "$pid"
wait_exit
[[ $status -eq 0 ]] || { echo "echo_server exited with $status after SIGINT" >&2; exit 1; }
echo "unix demo ok"
