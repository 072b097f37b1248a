#!/usr/bin/env python3
"""pg_server driven by psycopg2 (Debian's python3-psycopg2, over libpq) and by raw protocol bytes.

Starts its own pg_server (trust authentication, 2 workers, a free port) and checks:
  - psycopg2 sessions: transactions as the driver wraps them, parameters, errors raised as the
    driver's own exception classes for each SQLSTATE, the session usable after rollback;
  - LISTEN/NOTIFY: a listening connection receives the notification another sends, with the
    sender's process id (BackendKeyData), and one sent inside a transaction only on COMMIT;
  - cancel: connection.cancel() from another thread stops a long query with QueryCanceled, and
    the session goes on;
  - ten million rows (PG_TEST_SERIES_ROWS) streamed to a raw client that first stops reading:
    the server's memory stays bounded while it waits (back-pressure), then every byte arrives;
  - bad input (raw bytes): a startup packet of a bad length, a message of a bad length, an
    unknown message type, and an SSLRequest without TLS are answered as PostgreSQL answers
    them, and never disturb another session.
Loopback only; every wait is bounded. Usage: pg_clients_test.py <pg_server>
"""
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import psycopg2
import psycopg2.errors
import psycopg2.extensions

TIMEOUT = 20


def fail(message):
    raise SystemExit(f"pg clients: {message}")


def check(condition, message):
    if not condition:
        fail(message)


def start_server(binary):
    proc = subprocess.Popen([binary, "--port", "0", "--workers", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 5)
    check(ready, "no 'listening on' line within 5 s")
    line = proc.stdout.readline().strip()
    check(line.startswith("listening on 127.0.0.1:"), f"bad first line: {line!r}")
    port = int(line.split(":")[1].split()[0])
    return proc, port


def connect(port, autocommit=True):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="bob", dbname="shop", connect_timeout=5,
                            options="")
    conn.autocommit = autocommit
    return conn


# --- psycopg2 -------------------------------------------------------------------------------------

def test_driver_basics(port):
    conn = connect(port, autocommit=False)  # psycopg2 sends BEGIN before the first statement
    cur = conn.cursor()
    cur.execute("CREATE TABLE items (id int, name text, qty bigint)")
    cur.executemany("INSERT INTO items VALUES (%s, %s, %s)", [(1, "apple", 10), (2, "pear's", 20), (3, None, 30)])
    conn.commit()
    cur.execute("SELECT * FROM items WHERE id = %s", (2,))
    check(cur.fetchall() == [(2, "pear's", 20)], "a parameterised select")
    check([d.name for d in cur.description] == ["id", "name", "qty"], "column names")
    cur.execute("SELECT name FROM items WHERE id = 3")
    check(cur.fetchone() == (None,), "a NULL comes back as None")
    check(conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS, "in a transaction")
    conn.commit()
    check(conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE, "idle after commit")
    # Errors come back as the driver's class for their SQLSTATE; the block is then failed.
    for sql, error in [("SELECT * FROM nowhere", psycopg2.errors.UndefinedTable),
                       ("SELECT nope FROM items", psycopg2.errors.UndefinedColumn),
                       ("CREATE TABLE items (x int)", psycopg2.errors.DuplicateTable),
                       ("INSERT INTO items VALUES ('x', 'y', 1)", psycopg2.errors.InvalidTextRepresentation),
                       ("UPDATE items SET qty = 1", psycopg2.errors.FeatureNotSupported),
                       ("SELEC 1", psycopg2.errors.SyntaxError)]:
        try:
            cur.execute(sql)
            fail(f"{sql!r} succeeded")
        except error:
            pass
        check(conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR,
              f"{sql!r}: the transaction is failed")
        try:
            cur.execute("SELECT 1")
            fail("a failed transaction ran a statement")
        except psycopg2.errors.InFailedSqlTransaction:
            pass
        conn.rollback()
    cur.execute("SELECT id FROM items")
    check([r[0] for r in cur.fetchall()] == [1, 2, 3], "the session goes on after rollback")
    conn.close()
    print("ok: psycopg2 statements, transactions and errors")


def wait_notifies(conn, count, seconds=5):
    deadline = time.monotonic() + seconds
    while len(conn.notifies) < count and time.monotonic() < deadline:
        select.select([conn], [], [], max(0.0, deadline - time.monotonic()))
        conn.poll()
    return conn.notifies


def test_notify(port):
    listener, sender = connect(port), connect(port)
    listener.cursor().execute("LISTEN orders")
    sender.cursor().execute("NOTIFY orders, 'order 42'")
    got = wait_notifies(listener, 1)
    check(len(got) == 1, f"the listener got {len(got)} notifications")
    check((got[0].pid, got[0].channel, got[0].payload) == (sender.get_backend_pid(), "orders", "order 42"),
          f"the notification: {got[0]!r} (sender pid {sender.get_backend_pid()})")
    # Inside a transaction block: nothing until COMMIT, then once per distinct payload.
    sender.autocommit = False
    cur = sender.cursor()
    cur.execute("NOTIFY orders, 'late'")
    cur.execute("NOTIFY orders, 'late'")
    check(len(wait_notifies(listener, 2, seconds=0.5)) == 1, "a NOTIFY in a transaction was sent before COMMIT")
    sender.commit()
    got = wait_notifies(listener, 2)
    check(len(got) == 2 and got[1].payload == "late", f"after COMMIT: {got!r}")
    sender.cursor().execute("NOTIFY orders, 'dropped'")
    sender.rollback()
    listener.cursor().execute("UNLISTEN orders")
    sender.autocommit = True
    sender.cursor().execute("NOTIFY orders, 'after unlisten'")
    check(len(wait_notifies(listener, 3, seconds=0.5)) == 2, "a rolled back or unlistened NOTIFY arrived")
    listener.close()
    sender.close()
    print("ok: LISTEN / NOTIFY between two psycopg2 connections")


def test_cancel(port):
    conn = connect(port, autocommit=False)
    cur = conn.cursor()
    timer = threading.Timer(0.5, conn.cancel)  # psycopg2 sends a CancelRequest on a new connection
    timer.start()
    started = time.monotonic()
    try:
        cur.execute("SELECT * FROM generate_series(1, 9000000000000000000)")
        fail("an endless query finished")
    except psycopg2.errors.QueryCanceled as e:
        check("canceling statement due to user request" in str(e), f"cancel message: {e}")
    finally:
        timer.cancel()
    check(time.monotonic() - started < 10, "the cancel took more than 10 s")
    conn.rollback()
    cur.execute("SELECT 7")
    check(cur.fetchone() == (7,), "the session after a cancel")
    conn.close()
    print("ok: a long query cancelled by psycopg2")


# --- raw protocol ---------------------------------------------------------------------------------

def raw_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return s


def startup_bytes(user="raw", database="raw"):
    body = struct.pack("!I", 3 << 16) + f"user\0{user}\0database\0{database}\0\0".encode()
    return struct.pack("!I", len(body) + 4) + body


def read_message(s):
    header = recv_exact(s, 5)
    kind, length = header[:1], struct.unpack("!I", header[1:])[0]
    return kind, recv_exact(s, length - 4)


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_until_ready(s):
    messages = []
    while True:
        kind, body = read_message(s)
        messages.append((kind, body))
        if kind == b"Z":
            return messages


def error_fields(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode()
    return fields


def expect_fatal_then_close(s, code, text):
    kind, body = read_message(s)
    check(kind == b"E", f"expected an ErrorResponse, got {kind!r}")
    fields = error_fields(body)
    check(fields.get("S") == "FATAL" and fields.get("C") == code and text in fields.get("M", ""),
          f"expected FATAL {code} '{text}', got {fields}")
    s.settimeout(5)
    check(s.recv(1) == b"", "the connection stayed open after a FATAL error")


def raw_session(port):
    s = raw_connect(port)
    s.sendall(startup_bytes())
    read_until_ready(s)
    return s


def query_bytes(sql):
    body = sql.encode() + b"\0"
    return b"Q" + struct.pack("!I", len(body) + 4) + body


def test_bad_input(port):
    bystander = raw_session(port)
    cases = [
        (struct.pack("!II", 4, 1234), "08P01", "invalid length of startup packet"),
        (struct.pack("!II", 8, (2 << 16)), "0A000", "unsupported frontend protocol 2.0"),
        (struct.pack("!II", 9, 3 << 16) + b"\0", "28000", "no PostgreSQL user name"),
    ]
    for data, code, text in cases:
        s = raw_connect(port)
        s.sendall(data)
        expect_fatal_then_close(s, code, text)
        s.close()
    for data, code, text in [(b"Q" + struct.pack("!I", 2), "08P01", "invalid message length"),
                             (b"Q" + struct.pack("!I", 0x7fffffff), "08P01", "message too large"),
                             (b"?" + struct.pack("!I", 4), "08P01", "invalid frontend message type 63")]:
        s = raw_session(port)
        s.sendall(data)
        expect_fatal_then_close(s, code, text)
        s.close()
    # SSLRequest to a server without TLS: 'N', then the startup message in plain text.
    s = raw_connect(port)
    s.sendall(struct.pack("!II", 8, 80877103))
    check(recv_exact(s, 1) == b"N", "SSLRequest without TLS: expected 'N'")
    s.sendall(startup_bytes())
    check(read_until_ready(s)[-1] == (b"Z", b"I"), "startup after 'N'")
    s.close()
    # The bystander was not disturbed.
    bystander.sendall(query_bytes("SELECT 5"))
    messages = read_until_ready(bystander)
    check([m[0] for m in messages] == [b"T", b"D", b"C", b"Z"], f"bystander: {messages}")
    bystander.close()
    print("ok: bad input answered as PostgreSQL answers it; other sessions unaffected")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def series_answer_size(n):
    """Bytes of the DataRows for 1..n: each is 'D', length, column count, value length, digits."""
    total, digits, low = 0, 1, 1
    while low <= n:
        high = min(n, 10 ** digits - 1)
        total += (high - low + 1) * (1 + 4 + 2 + 4 + digits)
        low, digits = high + 1, digits + 1
    return total


def test_ten_million_rows(port, server_pid):
    # Ten million in the release preset; the sanitizer presets set fewer (their servers are
    # several times slower per row, and the property is the same: the answer is far larger
    # than what the server may buffer).
    n = int(os.environ.get("PG_TEST_SERIES_ROWS", "10000000"))
    s = raw_session(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    before = rss_kib(server_pid)
    s.sendall(query_bytes(f"SELECT * FROM generate_series(1, {n})"))
    time.sleep(2)  # not reading: the server must stop making rows, not buffer them
    stalled = rss_kib(server_pid)
    check(stalled - before < 32 * 1024, f"the server grew by {stalled - before} KiB while the client did not read")
    kind, body = read_message(s)
    check(kind == b"T" and b"generate_series\0" in body, "RowDescription first")
    expected = series_answer_size(n)
    tail = (b"C" + struct.pack("!I", 4 + len(f"SELECT {n}") + 1) + f"SELECT {n}".encode() + b"\0"
            + b"Z" + struct.pack("!I", 5) + b"I")
    first = recv_exact(s, 12)
    check(first == b"D" + struct.pack("!IHI", 11, 1, 1) + b"1", f"first row: {first!r}")
    remaining, buf = expected - 12 + len(tail), bytearray(1 << 20)
    last = b""
    deadline = time.monotonic() + 120
    while remaining > 0:
        check(time.monotonic() < deadline, "ten million rows took over 120 s")
        got = s.recv_into(buf, min(len(buf), remaining))
        check(got > 0, f"closed with {remaining} bytes to come")
        remaining -= got
        last = (last + bytes(buf[:got]))[-len(tail):]
    check(last == tail, f"the answer ends with {last!r}")
    s.close()
    print(f"ok: {n} streamed rows ({expected} bytes); the server grew {stalled - before} KiB while stalled")


def main():
    binary = sys.argv[1]
    proc, port = start_server(binary)
    try:
        test_driver_basics(port)
        test_notify(port)
        test_cancel(port)
        test_bad_input(port)
        test_ten_million_rows(port, proc.pid)
    finally:
        proc.send_signal(2)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail("the server did not stop within 10 s of SIGINT")
        err = proc.stderr.read()
    check(code == 0, f"the server exited with {code}; stderr:\n{err}")
    print("ok: SIGINT stops the server, exit 0")


if __name__ == "__main__":
    main()
