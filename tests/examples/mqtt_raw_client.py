#!/usr/bin/env python3
"""A minimal MQTT 3.1.1 client on raw sockets, and the protocol checks run_mqtt_demo.sh makes with it.

Checks that mosquitto_sub/mosquitto_pub cannot make, because they need exact bytes on the wire
or a client that misbehaves on purpose. Each subcommand connects to --host/--port, prints one
"ok:" line per thing it checked and exits 0, or exits 1 with a message naming what failed:

  ping             PINGREQ gets PINGRESP
  unsubscribe      UNSUBSCRIBE gets UNSUBACK (with the same packet id) and stops delivery
  qos2             an inbound QoS 2 PUBLISH goes through PUBREC/PUBREL/PUBCOMP and is delivered
                   once, also when the publisher sends it twice (DUP) before its PUBREL
  dup-redelivery   an unacknowledged QoS 1 message is sent again after the persistent session
                   reconnects: DUP=1, the same packet id, session_present=1
  keepalive-will   a client with keepalive=1 that goes silent is closed within 1.5 x keepalive
                   and its will is published
  connack-codes    CONNACK 1 for an unsupported protocol level, 2 for an empty client id
                   without clean session; the connection is then closed
  malformed        protocol violations close that connection and no other
  takeover         a second CONNECT with the same client id closes the first connection
  slow-subscriber  a QoS 1 subscriber that never reads is closed by the broker while a reading
                   subscriber of the same topic gets every message        (wireframe's broker)
  qos0-flood       a QoS 0 subscriber that never reads is not closed      (wireframe's broker)

Standard library only; every socket operation has a timeout. Usage:
  mqtt_raw_client.py SUBCOMMAND --port PORT [--host 127.0.0.1] [options]
"""
import argparse
import multiprocessing
import queue
import socket
import struct
import sys
import time

TIMEOUT = 5.0  # seconds: the longest wait for any one packet, connect, or send


class CheckFailed(Exception):
    pass


class Closed(Exception):
    """The peer closed the connection (EOF or reset)."""


def fail(message):
    raise CheckFailed(message)


def check(condition, message):
    if not condition:
        fail(message)


def ok(message):
    print(f"ok: {message}", flush=True)


# --- packets (MQTT 3.1.1, section 2 and 3) ------------------------------------------------------

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14
NAMES = {0: "reserved(0)", CONNECT: "CONNECT", CONNACK: "CONNACK", PUBLISH: "PUBLISH",
         PUBACK: "PUBACK", PUBREC: "PUBREC", PUBREL: "PUBREL", PUBCOMP: "PUBCOMP",
         SUBSCRIBE: "SUBSCRIBE", SUBACK: "SUBACK", UNSUBSCRIBE: "UNSUBSCRIBE",
         UNSUBACK: "UNSUBACK", PINGREQ: "PINGREQ", PINGRESP: "PINGRESP",
         DISCONNECT: "DISCONNECT", 15: "reserved(15)"}


def remaining_length(n):
    """The fixed header's remaining length, as a varint of 1..4 bytes (2.2.3)."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_string(value):
    """A 16-bit length, then the bytes (1.5.3)."""
    data = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(data)) + data


def packet(ptype, flags, body=b""):
    return bytes([ptype << 4 | flags]) + remaining_length(len(body)) + body


def connect_packet(client_id, clean=True, keepalive=0, will=None, protocol="MQTT", level=4):
    """will: (topic, message, qos, retain) or None."""
    flags = 0x02 if clean else 0
    payload = mqtt_string(client_id)
    if will:
        topic, message, qos, retain = will
        flags |= 0x04 | qos << 3 | (0x20 if retain else 0)
        payload += mqtt_string(topic) + mqtt_string(message)
    body = mqtt_string(protocol) + bytes([level, flags]) + struct.pack("!H", keepalive) + payload
    return packet(CONNECT, 0, body)


def publish_packet(topic, payload, qos=0, pid=0, retain=False, dup=False):
    flags = (0x08 if dup else 0) | qos << 1 | (0x01 if retain else 0)
    body = mqtt_string(topic) + (struct.pack("!H", pid) if qos else b"") + payload
    return packet(PUBLISH, flags, body)


def subscribe_packet(pid, filters):
    """filters: [(topic filter, requested qos)]."""
    body = struct.pack("!H", pid) + b"".join(mqtt_string(f) + bytes([q]) for f, q in filters)
    return packet(SUBSCRIBE, 0x02, body)


def unsubscribe_packet(pid, filters):
    return packet(UNSUBSCRIBE, 0x02, struct.pack("!H", pid) + b"".join(mqtt_string(f) for f in filters))


def ack_packet(ptype, pid):
    """PUBACK, PUBREC, PUBREL (flags 0b0010) or PUBCOMP."""
    return packet(ptype, 0x02 if ptype == PUBREL else 0, struct.pack("!H", pid))


PINGREQ_PACKET = packet(PINGREQ, 0)
DISCONNECT_PACKET = packet(DISCONNECT, 0)


class Packet:
    """One received packet, with the fields of the types this client receives decoded."""

    def __init__(self, first_byte, body):
        self.type, self.flags, self.body = first_byte >> 4, first_byte & 0x0F, body
        if self.type == PUBLISH:
            self.dup, self.qos, self.retain = bool(self.flags & 0x08), self.flags >> 1 & 3, bool(self.flags & 1)
            (topic_len,) = struct.unpack_from("!H", body)
            self.topic = body[2:2 + topic_len].decode()
            rest = body[2 + topic_len:]
            self.pid, self.payload = (struct.unpack_from("!H", rest)[0], rest[2:]) if self.qos else (None, rest)
        elif self.type == CONNACK:
            self.session_present, self.code = bool(body[0] & 1), body[1]
        elif self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK):
            (self.pid,) = struct.unpack_from("!H", body)
            self.granted = list(body[2:]) if self.type == SUBACK else None

    def __repr__(self):
        if self.type == PUBLISH:
            return (f"PUBLISH(topic={self.topic!r}, qos={self.qos}, dup={int(self.dup)}, "
                    f"retain={int(self.retain)}, pid={self.pid}, payload={self.payload[:40]!r})")
        return f"{NAMES[self.type]}(flags={self.flags:#x}, body={self.body[:16].hex()})"


def parse_packet(buf):
    """(Packet, bytes used) for a whole packet at the front of buf, or (None, 0)."""
    length, multiplier = 0, 1
    for i in range(1, 5):
        if i >= len(buf):
            return None, 0
        length += (buf[i] & 0x7F) * multiplier
        multiplier *= 128
        if not buf[i] & 0x80:
            end = i + 1 + length
            return (Packet(buf[0], bytes(buf[i + 1:end])), end) if len(buf) >= end else (None, 0)
    fail(f"the broker sent a remaining length longer than 4 bytes: {bytes(buf[:6]).hex()}")


# --- a client -------------------------------------------------------------------------------------

class Client:
    """One TCP connection. name says which connection a failure is about."""

    def __init__(self, args, name, rcvbuf=None):
        self.name, self.buf, self.next_pid = name, bytearray(), 1
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect(): the TCP window (and its scale) is settled by the handshake
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(TIMEOUT)
        try:
            self.sock.connect((args.host, args.port))
        except OSError as e:
            fail(f"{name}: cannot connect to {args.host}:{args.port}: {e}")

    def pid(self):
        pid, self.next_pid = self.next_pid, self.next_pid % 65535 + 1
        return pid

    def send(self, data):
        try:
            self.sock.settimeout(TIMEOUT)
            self.sock.sendall(data)
        except socket.timeout:
            fail(f"{self.name}: could not send {len(data)} bytes within {TIMEOUT} s")
        except OSError as e:
            raise Closed(f"{self.name}: send: {e}") from e

    def read_packet(self, timeout=TIMEOUT):
        """The next packet, or None if none arrives within timeout. Raises Closed."""
        deadline = time.monotonic() + timeout
        while True:
            p, used = parse_packet(self.buf)
            if p:
                del self.buf[:used]
                return p
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError as e:  # ECONNRESET and the like
                raise Closed(f"{self.name}: {e}") from e
            if not data:
                raise Closed(f"{self.name}: the broker closed the connection")
            self.buf += data

    def expect(self, ptype, what, timeout=TIMEOUT):
        try:
            p = self.read_packet(timeout)
        except Closed as e:
            fail(f"{what}: expected {NAMES[ptype]}, but the connection closed ({e})")
        check(p is not None, f"{what}: no {NAMES[ptype]} within {timeout} s ({self.name})")
        check(p.type == ptype, f"{what}: expected {NAMES[ptype]}, got {p!r} ({self.name})")
        return p

    def expect_nothing(self, seconds, what):
        """No packet at all for seconds."""
        try:
            p = self.read_packet(seconds)
        except Closed as e:
            fail(f"{what}: the connection closed ({e})")
        check(p is None, f"{what}: unexpected {p!r} ({self.name})")

    def connect(self, client_id, **kwargs):
        """Sends CONNECT; returns the CONNACK, whatever its code."""
        self.send(connect_packet(client_id, **kwargs))
        return self.expect(CONNACK, f"CONNECT of {client_id!r}")

    def handshake(self, client_id, **kwargs):
        """CONNECT that must be accepted; returns the CONNACK."""
        connack = self.connect(client_id, **kwargs)
        check(connack.code == 0, f"CONNECT of {client_id!r} refused with code {connack.code}")
        return connack

    def subscribe(self, filters, lower_ok=False):
        """SUBSCRIBE; returns the granted QoS list. Each must be the requested QoS or, with
        lower_ok, anything from 0 up to it (a server may grant less, 3.8.4)."""
        pid = self.pid()
        self.send(subscribe_packet(pid, filters))
        suback = self.expect(SUBACK, f"SUBSCRIBE {filters}")
        check(suback.pid == pid, f"SUBACK for packet id {suback.pid}, expected {pid}")
        check(len(suback.granted) == len(filters) and
              all(g == q or (lower_ok and g < q) for g, (_, q) in zip(suback.granted, filters)),
              f"SUBSCRIBE {filters}: granted {suback.granted}")
        return suback.granted

    def publish(self, topic, payload, qos=0, retain=False):
        """One PUBLISH and its whole acknowledgement flow."""
        pid = self.pid() if qos else 0
        self.send(publish_packet(topic, payload, qos, pid, retain))
        if qos == 1:
            ack = self.expect(PUBACK, f"QoS 1 PUBLISH to {topic}")
            check(ack.pid == pid, f"PUBACK for packet id {ack.pid}, expected {pid}")
        elif qos == 2:
            rec = self.expect(PUBREC, f"QoS 2 PUBLISH to {topic}")
            check(rec.pid == pid, f"PUBREC for packet id {rec.pid}, expected {pid}")
            self.send(ack_packet(PUBREL, pid))
            comp = self.expect(PUBCOMP, f"PUBREL for {topic}")
            check(comp.pid == pid, f"PUBCOMP for packet id {comp.pid}, expected {pid}")

    def ping(self, what="PINGREQ"):
        self.send(PINGREQ_PACKET)
        self.expect(PINGRESP, what)

    def wait_closed(self, timeout):
        """Reads (and drops) whatever comes until the broker closes the connection. Returns
        (closed, seconds waited, bytes read before the end)."""
        start, nbytes = time.monotonic(), len(self.buf)
        self.buf.clear()
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, time.monotonic() - start, nbytes
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:  # reset: closed too
                return True, time.monotonic() - start, nbytes
            if not data:
                return True, time.monotonic() - start, nbytes
            nbytes += len(data)

    def disconnect(self):
        try:
            self.send(DISCONNECT_PACKET)
        finally:
            self.close()

    def close(self):
        self.sock.close()


def connected(args, client_id, name=None, **kwargs):
    """A Client whose CONNECT was accepted."""
    client = Client(args, name or client_id, kwargs.pop("rcvbuf", None))
    client.handshake(client_id, **kwargs)
    return client


def expect_publish(client, what, topic, payload, qos=None):
    p = client.expect(PUBLISH, what)
    check((p.topic, p.payload) == (topic, payload), f"{what}: got {p!r}, expected {topic} {payload!r}")
    check(qos is None or p.qos == qos, f"{what}: delivered at QoS {p.qos}, expected {qos}")
    return p


# --- the checks -----------------------------------------------------------------------------------

def check_ping(args):
    client = connected(args, "raw-ping")
    for i in range(2):
        client.ping(f"PINGREQ {i + 1}")
    client.disconnect()
    ok("PINGREQ gets PINGRESP")


def check_unsubscribe(args):
    sub = connected(args, "raw-unsub")
    pub = connected(args, "raw-unsub-pub")
    sub.subscribe([("u/1", 1)])
    pub.publish("u/1", b"before", qos=1)
    p = expect_publish(sub, "a message before UNSUBSCRIBE", "u/1", b"before", qos=1)
    sub.send(ack_packet(PUBACK, p.pid))
    pid = sub.pid()
    sub.send(unsubscribe_packet(pid, ["u/1"]))
    ack = sub.expect(UNSUBACK, "UNSUBSCRIBE u/1")
    check(ack.pid == pid, f"UNSUBACK for packet id {ack.pid}, expected {pid}")
    pub.publish("u/1", b"after", qos=1)
    sub.expect_nothing(1.0, "after UNSUBSCRIBE u/1")
    # A filter that was never subscribed is acknowledged all the same (3.10.4-5).
    pid = sub.pid()
    sub.send(unsubscribe_packet(pid, ["u/never"]))
    ack = sub.expect(UNSUBACK, "UNSUBSCRIBE of a filter never subscribed")
    check(ack.pid == pid, f"UNSUBACK for packet id {ack.pid}, expected {pid}")
    sub.disconnect()
    pub.disconnect()
    ok("UNSUBSCRIBE gets UNSUBACK and stops delivery")


def check_qos2(args):
    sub = connected(args, "raw-q2-sub")
    # A broker may grant QoS 1 for a QoS 2 subscription (mqtt_broker does; mosquitto grants 2).
    (granted,) = sub.subscribe([("q2/#", 2)], lower_ok=True)
    check(granted >= 1, f"SUBSCRIBE at QoS 2 granted QoS {granted}: the delivery check needs 1 or 2")
    pub = connected(args, "raw-q2-pub")
    pid = 7
    pub.send(publish_packet("q2/x", b"exactly-once", qos=2, pid=pid))
    rec = pub.expect(PUBREC, "QoS 2 PUBLISH")
    check(rec.pid == pid, f"PUBREC for packet id {rec.pid}, expected {pid}")
    # The same PUBLISH again (as after a lost PUBREC): PUBREC again, no second delivery (4.3.3).
    pub.send(publish_packet("q2/x", b"exactly-once", qos=2, pid=pid, dup=True))
    rec = pub.expect(PUBREC, "the QoS 2 PUBLISH sent again with DUP=1")
    check(rec.pid == pid, f"second PUBREC for packet id {rec.pid}, expected {pid}")
    pub.send(ack_packet(PUBREL, pid))
    comp = pub.expect(PUBCOMP, "PUBREL")
    check(comp.pid == pid, f"PUBCOMP for packet id {comp.pid}, expected {pid}")
    ok("inbound QoS 2: PUBLISH, PUBREC (twice for DUP), PUBREL, PUBCOMP")
    # The subscriber's side, at min(2, granted).
    p = expect_publish(sub, "delivery of the QoS 2 message", "q2/x", b"exactly-once", qos=granted)
    if granted == 2:
        sub.send(ack_packet(PUBREC, p.pid))
        rel = sub.expect(PUBREL, "PUBREC sent by the subscriber")
        check(rel.pid == p.pid, f"PUBREL for packet id {rel.pid}, expected {p.pid}")
        check(rel.flags == 0x02, f"PUBREL with fixed-header flags {rel.flags:#x}, expected 0x2")
        sub.send(ack_packet(PUBCOMP, p.pid))
    else:
        sub.send(ack_packet(PUBACK, p.pid))
    sub.expect_nothing(1.0, "the QoS 2 message is delivered once")
    sub.disconnect()
    pub.disconnect()
    ok(f"delivered once to a subscriber granted QoS {granted}"
       + (", through PUBREC/PUBREL/PUBCOMP" if granted == 2 else ", acknowledged with PUBACK"))


def check_dup_redelivery(args):
    cid, topic = "raw-dup", "d/1"
    connected(args, cid, clean=True).disconnect()  # no session left from before
    time.sleep(0.2)
    sub = Client(args, "persistent subscriber")
    connack = sub.handshake(cid, clean=False)
    check(not connack.session_present, "session_present=1 on the first persistent CONNECT")
    sub.subscribe([(topic, 1)])
    pub = connected(args, "raw-dup-pub")
    pub.publish(topic, b"redeliver-me", qos=1)
    first = expect_publish(sub, "first delivery", topic, b"redeliver-me", qos=1)
    check(not first.dup, f"the first delivery has DUP=1: {first!r}")
    sub.close()  # no PUBACK, no DISCONNECT: the connection just drops
    time.sleep(0.2)

    sub = Client(args, "persistent subscriber, reconnected")
    connack = sub.handshake(cid, clean=False)
    check(connack.session_present, "session_present=0 when the persistent session exists")
    again = expect_publish(sub, "redelivery after the reconnect", topic, b"redeliver-me", qos=1)
    check(again.dup, f"the redelivered message has DUP=0: {again!r}")
    check(again.pid == first.pid, f"redelivered with packet id {again.pid}, first sent with {first.pid}")
    sub.send(ack_packet(PUBACK, again.pid))
    sub.expect_nothing(0.5, "after the PUBACK of the redelivered message")
    sub.disconnect()
    ok("unacknowledged QoS 1 redelivered with DUP=1, the same packet id, session_present=1")

    sub = Client(args, "persistent subscriber, third connection")
    check(sub.handshake(cid, clean=False).session_present, "session_present=0 on the third connection")
    sub.expect_nothing(1.0, "an acknowledged message must not come again")
    sub.disconnect()
    sub = Client(args, "clean subscriber")
    check(not sub.handshake(cid, clean=True).session_present, "session_present=1 with clean_session=1")
    sub.disconnect()
    pub.disconnect()
    ok("an acknowledged message is not redelivered; clean_session=1 gives session_present=0")


def check_keepalive_will(args):
    watcher = connected(args, "raw-ka-watch")
    watcher.subscribe([("kw/#", 0)])
    silent = Client(args, "silent client")
    silent.handshake("raw-ka", keepalive=1, will=("kw/raw-ka", b"expired", 0, False))
    closed, waited, _ = silent.wait_closed(args.max_seconds + 1)
    check(closed, f"a client silent for {waited:.1f} s with keepalive=1 is still connected")
    check(args.min_seconds <= waited <= args.max_seconds,
          f"keepalive=1: closed after {waited:.2f} s, expected {args.min_seconds}..{args.max_seconds} s")
    ok(f"keepalive=1: the silent client was closed after {waited:.2f} s")
    expect_publish(watcher, "the will of the silent client", "kw/raw-ka", b"expired")
    watcher.disconnect()
    ok("its will was published")


def check_connack_codes(args):
    cases = [  # (what, client id, CONNECT fields, expected code)
        ("protocol level 3 with name MQTT", "raw-connack", dict(protocol="MQTT", level=3), 1),
        ("an empty client id with clean_session=0", "", dict(clean=False), 2)]
    if args.refuse_level_5:
        cases.insert(1, ("protocol level 5 (MQTT 5)", "raw-connack", dict(protocol="MQTT", level=5), 1))
    for what, client_id, kwargs, code in cases:
        client = Client(args, what)
        connack = client.connect(client_id, **kwargs)
        check(connack.code == code, f"{what}: CONNACK code {connack.code}, expected {code}")
        check(not connack.session_present, f"{what}: session_present=1 with a refusal (3.2.2-4)")
        closed, waited, _ = client.wait_closed(3)
        check(closed, f"{what}: still connected {waited:.1f} s after the refusal (3.2.2-5)")
        client.close()
        ok(f"CONNACK {code} for {what}, then closed")


def check_malformed(args):
    sub = connected(args, "raw-mal-sub")
    sub.subscribe([("m/#", 0)])
    pid = struct.pack("!H", 1)
    cases = [  # (what, CONNECT first?, bytes)
        ("a PUBLISH as the first packet", False, publish_packet("m/sneak", b"not connected")),
        ("a PINGREQ as the first packet", False, PINGREQ_PACKET),
        ("a PUBLISH with QoS 3", True, packet(PUBLISH, 0b0110, mqtt_string("m/qos3") + pid + b"bad qos")),
        ("the reserved packet type 0", True, packet(0, 0)),
        ("the reserved packet type 15", True, packet(15, 0)),
        ("a SUBSCRIBE with fixed-header flags 0", True, packet(SUBSCRIBE, 0, pid + mqtt_string("m/#") + b"\x00")),
        ("a second CONNECT", True, connect_packet("raw-mal-again")),
        ("a PUBLISH to a topic with a wildcard", True, publish_packet("m/+", b"wildcard")),
        ("a remaining length of five bytes", True, b"\x30\xff\xff\xff\xff\x01"),
    ]
    for i, (what, connect_first, data) in enumerate(cases):
        client = Client(args, what)
        if connect_first:
            client.handshake(f"raw-mal-{i}")
        try:
            client.send(data)
        except Closed:
            pass
        closed, waited, nbytes = client.wait_closed(3)
        check(closed, f"{what}: the connection is still open after {waited:.1f} s")
        check(nbytes == 0, f"{what}: the broker answered with {nbytes} bytes before closing")
        client.close()
        ok(f"{what} closes the connection")
    sub.ping("PINGREQ of the other subscriber, after the malformed packets")
    pub = connected(args, "raw-mal-pub")
    pub.publish("m/after", b"still-here", qos=1)
    expect_publish(sub, "the other subscriber after the malformed packets", "m/after", b"still-here")
    sub.expect_nothing(0.3, "nothing the malformed connections sent is delivered")
    pub.disconnect()
    sub.disconnect()
    ok("another subscriber was not disturbed, and got nothing from the bad connections")


def check_takeover(args):
    first = connected(args, "raw-takeover", "first connection")
    second = connected(args, "raw-takeover", "second connection")
    closed, waited, _ = first.wait_closed(3)
    check(closed, f"the first connection with the same client id is still open after {waited:.1f} s")
    second.ping("PINGREQ on the connection that took over")
    second.disconnect()
    ok("a second CONNECT with the same client id closes the first connection")


def publish_many(pub, topic, payloads, qos, rate=None, window=32):
    """Publishes every payload, at most window QoS 1 messages unacknowledged at a time and, with
    rate, at most rate messages a second."""
    unacked, start = 0, time.monotonic()
    for i, payload in enumerate(payloads):
        if rate and i % 16 == 0:
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
        pub.send(publish_packet(topic, payload, qos, pub.pid() if qos else 0))
        unacked += qos == 1
        while unacked >= window:
            pub.expect(PUBACK, f"flood to {topic}")
            unacked -= 1
    for _ in range(unacked):
        pub.expect(PUBACK, f"flood to {topic}")


def flood_payloads(count, size):
    return [f"{i:08d}".encode().ljust(size, b".") for i in range(count)]


def read_flood(args, ready, results):
    """The reading subscriber of check_slow_subscriber, in a process of its own so that it does
    not share an interpreter lock with the publisher: subscribes, sets ready, acknowledges every
    message until args.count came or args.deadline passed, then puts (count, in order?, problem)
    on results."""
    numbers, problem = [], None
    try:
        reader = connected(args, "raw-slow-reader", "reading subscriber", rcvbuf=1 << 20)
        reader.subscribe([(args.topic, 1)])
        ready.set()
        end = time.monotonic() + args.deadline
        while len(numbers) < args.count and time.monotonic() < end:
            p = reader.read_packet(end - time.monotonic())
            if p is None:
                break
            if p.type == PUBLISH:
                numbers.append(int(p.payload[:8]))
                if p.qos:
                    reader.send(ack_packet(PUBACK, p.pid))
        reader.disconnect()
    except (Closed, CheckFailed) as e:
        problem = str(e)
    results.put((len(numbers), numbers == list(range(len(numbers))), problem))


def check_slow_subscriber(args):
    fork = multiprocessing.get_context("fork")
    ready, results = fork.Event(), fork.Queue()
    reader = fork.Process(target=read_flood, args=(args, ready, results), daemon=True)
    reader.start()
    if not ready.wait(TIMEOUT):
        problem = results.get(timeout=1)[2] if not results.empty() else "no SUBACK"
        fail(f"the reading subscriber did not subscribe within {TIMEOUT} s: {problem}")
    slow = connected(args, "raw-slow", "slow subscriber", rcvbuf=4096)
    slow.subscribe([(args.topic, 1)])
    pub = connected(args, "raw-slow-pub", "publisher")
    start = time.monotonic()
    # At a pace a reading subscriber keeps up with even on a busy machine; the one that never
    # reads falls behind all the same, within a few hundred messages.
    publish_many(pub, args.topic, flood_payloads(args.count, args.size), qos=1, rate=args.rate)
    ok(f"published {args.count} QoS 1 messages of {args.size} bytes in {time.monotonic() - start:.2f} s")
    try:
        got, in_order, problem = results.get(timeout=args.deadline + TIMEOUT)
    except queue.Empty:
        fail("the reading subscriber's process did not report")
    reader.join(TIMEOUT)
    check(not problem, f"the reading subscriber: {problem}")
    check(got == args.count, f"the reading subscriber got {got} of {args.count} messages within {args.deadline} s")
    check(in_order, "the reading subscriber got the messages out of order")
    ok(f"the reading subscriber got all {args.count} messages, in order")
    closed, waited, nbytes = slow.wait_closed(args.deadline)
    check(closed, f"the broker did not close the subscriber that never reads "
                  f"(still open; {nbytes} bytes read in {waited:.1f} s)")
    ok(f"the broker closed the subscriber that never reads ({nbytes} bytes were on their way)")
    pub.disconnect()


def check_qos0_flood(args):
    slow = connected(args, "raw-q0-slow", "QoS 0 subscriber that does not read", rcvbuf=4096)
    slow.subscribe([(args.topic, 0)])
    pub = connected(args, "raw-q0-pub", "publisher")
    publish_many(pub, args.topic, flood_payloads(args.count, args.size), qos=0)
    pub.ping("PINGREQ after the QoS 0 flood")  # the broker has read the whole flood
    ok(f"published {args.count} QoS 0 messages of {args.size} bytes")
    # Now read: whatever the broker kept for it, then a PINGRESP on the same connection.
    got, end = 0, time.monotonic() + args.deadline
    try:
        while time.monotonic() < end:
            p = slow.read_packet(1.0)
            if p is None:
                break
            got += p.type == PUBLISH
        slow.send(PINGREQ_PACKET)
        while True:
            p = slow.read_packet(max(0.1, end - time.monotonic()))
            check(p is not None, f"no PINGRESP within {args.deadline} s after the QoS 0 flood")
            if p.type == PINGRESP:
                break
            got += p.type == PUBLISH
    except Closed as e:
        fail(f"the broker closed a QoS 0 subscriber that did not read ({got} messages read): {e}")
    ok(f"the QoS 0 subscriber is still connected; it got {got} of {args.count} messages")
    slow.disconnect()
    pub.disconnect()


CHECKS = {
    "ping": check_ping,
    "unsubscribe": check_unsubscribe,
    "qos2": check_qos2,
    "dup-redelivery": check_dup_redelivery,
    "keepalive-will": check_keepalive_will,
    "connack-codes": check_connack_codes,
    "malformed": check_malformed,
    "takeover": check_takeover,
    "slow-subscriber": check_slow_subscriber,
    "qos0-flood": check_qos0_flood,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in CHECKS:
        sub = commands.add_parser(name)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, required=True)
        if name == "keepalive-will":
            sub.add_argument("--min-seconds", type=float, default=1.0)
            sub.add_argument("--max-seconds", type=float, default=4.0)
        if name == "connack-codes":
            sub.add_argument("--refuse-level-5", action="store_true",
                             help="also expect CONNACK 1 for level 5 (a broker without MQTT 5)")
        if name in ("slow-subscriber", "qos0-flood"):
            sub.add_argument("--count", type=int, default=4000)
            sub.add_argument("--size", type=int, default=1024)
            sub.add_argument("--topic", default=f"flood/{name}")
            sub.add_argument("--deadline", type=float, default=15.0)
        if name == "slow-subscriber":
            sub.add_argument("--rate", type=float, default=2500, help="messages a second at most")
    args = parser.parse_args()
    try:
        CHECKS[args.command](args)
    except (CheckFailed, Closed) as e:
        print(f"mqtt raw client: {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
