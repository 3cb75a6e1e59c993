"""Drives a running `skiff etcd` with raw gRPC calls (grpcio, the gRPC C core that the etcd3
package uses) to check the transport itself: unknown methods, undecodable and oversized
requests, requests larger than the HTTP/2 windows, many concurrent calls on one
connection, watch streams cancelled by the client, and (over a plain socket, frame by
frame) how many PINGs a client may send.

Usage: python3 grpc_transport.py HOST PORT
Prints one line per check and a summary; exits non-zero if a check failed.
"""
import socket
import struct
import sys
import threading
import time

import grpc
from etcd3.etcdrpc import rpc_pb2

from checks import Checks

HOST, PORT = sys.argv[1], int(sys.argv[2])
channel = grpc.insecure_channel(f"{HOST}:{PORT}")
checks = Checks()


def raw(method):
    """A unary call that sends and returns bytes as they are."""
    return channel.unary_unary(method, request_serializer=None, response_deserializer=None)


def put(key, value):
    request = rpc_pb2.PutRequest(key=key, value=value).SerializeToString()
    return rpc_pb2.PutResponse.FromString(raw("/etcdserverpb.KV/Put")(request, timeout=30))


def get(key):
    request = rpc_pb2.RangeRequest(key=key).SerializeToString()
    return rpc_pb2.RangeResponse.FromString(raw("/etcdserverpb.KV/Range")(request, timeout=30))


def expect_error(call, code, text):
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() == code, (error.code(), error.details())
        assert text in error.details(), error.details()
        return
    raise AssertionError(f"expected {code}")


@checks.check
def unknown_methods_are_unimplemented():
    expect_error(lambda: raw("/etcdserverpb.KV/Nope")(b"", timeout=10), grpc.StatusCode.UNIMPLEMENTED, "")
    expect_error(lambda: raw("/no.Such/Service")(b"", timeout=10), grpc.StatusCode.UNIMPLEMENTED, "")


@checks.check
def undecodable_requests_are_refused():
    # Answered inline by the transport, and by the server core: the same code.
    expect_error(lambda: raw("/etcdserverpb.KV/Put")(b"\xff\xff\xff", timeout=10), grpc.StatusCode.INVALID_ARGUMENT, "decode")
    expect_error(lambda: raw("/etcdserverpb.Lease/LeaseGrant")(b"\xff\xff\xff", timeout=10),
                 grpc.StatusCode.INVALID_ARGUMENT, "deserialize")


@checks.check
def oversized_messages_are_refused_and_the_connection_lives_on():
    # Above etcd's request limit (1.5 MiB) but under the message limit: etcd's own error.
    expect_error(lambda: put(b"/t/big", b"x" * (1600 * 1024)), grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: request is too large")
    # Above the transport's message limit: refused before it is read.
    expect_error(lambda: raw("/etcdserverpb.KV/Put")(b"\0" * (3 * 1024 * 1024), timeout=30),
                 grpc.StatusCode.RESOURCE_EXHAUSTED, "larger than the limit")
    assert put(b"/t/after", b"ok").header.revision > 0


@checks.check
def requests_larger_than_the_windows_arrive_whole():
    # 12 values of 1.4 MiB on one connection: more than the 8 MiB connection window and
    # the 64 KiB a stream starts with, so the server must keep both windows open.
    values = [bytes([65 + i]) * (1400 * 1024) for i in range(12)]
    for i, value in enumerate(values):
        put(f"/t/large/{i}".encode(), value)
    for i, value in enumerate(values):
        kvs = get(f"/t/large/{i}".encode()).kvs
        assert len(kvs) == 1 and kvs[0].value == value, i


@checks.check
def many_concurrent_calls_on_one_connection():
    errors = []

    def writer(n):
        try:
            for j in range(20):
                key = f"/t/many/{n}/{j}".encode()
                put(key, str(j).encode())
                assert get(key).kvs[0].value == str(j).encode()
        except Exception as error:  # collected and reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    request = rpc_pb2.RangeRequest(key=b"/t/many/", range_end=b"/t/many0", count_only=True).SerializeToString()
    count = rpc_pb2.RangeResponse.FromString(raw("/etcdserverpb.KV/Range")(request, timeout=30)).count
    assert count == 600, count


@checks.check
def cancelled_watch_streams_end_and_the_server_goes_on():
    watch = channel.stream_stream("/etcdserverpb.Watch/Watch",
                                  request_serializer=rpc_pb2.WatchRequest.SerializeToString,
                                  response_deserializer=rpc_pb2.WatchResponse.FromString)
    for round in range(50):
        create = rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=b"/t/w", range_end=b"/t/x"))
        done = threading.Event()

        def requests():
            yield create
            done.wait(10)

        call = watch(requests())
        first = next(call)
        assert first.created, first
        put(b"/t/w/key", str(round).encode())
        events = next(call).events
        assert events[0].kv.value == str(round).encode(), events
        call.cancel()
        done.set()
    assert put(b"/t/w/end", b"1").header.revision > 0


@checks.check
def watches_of_one_stream_each_get_their_own_view_of_a_batch():
    # Four watches on one stream see the same changes; the server encodes a batch once for
    # the watches that take all of it, so each watch's options must still show: previous
    # values only where asked for, filtered kinds, and each its own ID.
    watch = channel.stream_stream("/etcdserverpb.Watch/Watch",
                                  request_serializer=rpc_pb2.WatchRequest.SerializeToString,
                                  response_deserializer=rpc_pb2.WatchResponse.FromString)
    put(b"/t/view/a", b"old")
    done = threading.Event()
    creates = [
        rpc_pb2.WatchCreateRequest(key=b"/t/view/", range_end=b"/t/view0"),
        rpc_pb2.WatchCreateRequest(key=b"/t/view/", range_end=b"/t/view0", prev_kv=True),
        rpc_pb2.WatchCreateRequest(key=b"/t/view/", range_end=b"/t/view0", filters=[rpc_pb2.WatchCreateRequest.NOPUT]),
        rpc_pb2.WatchCreateRequest(key=b"/t/view/a"),
    ]

    def requests():
        for create in creates:
            yield rpc_pb2.WatchRequest(create_request=create)
        done.wait(20)

    call = watch(requests())
    ids = []
    for response in call:
        assert response.created, response
        ids.append(response.watch_id)
        if len(ids) == len(creates):
            break
    assert len(set(ids)) == 4, ids
    first = put(b"/t/view/a", b"new").header.revision
    put(b"/t/view/b", b"other")
    delete = rpc_pb2.DeleteRangeRequest(key=b"/t/view/a").SerializeToString()
    raw("/etcdserverpb.KV/DeleteRange")(delete, timeout=30)
    seen = {i: [] for i in ids}
    wanted = {ids[0]: 3, ids[1]: 3, ids[2]: 1, ids[3]: 2}
    for response in call:
        assert response.watch_id in seen, response
        assert response.header.revision >= response.events[-1].kv.mod_revision, response
        seen[response.watch_id] += list(response.events)
        if all(len(seen[i]) >= n for i, n in wanted.items()):
            break
    call.cancel()
    done.set()
    plain, prev, deletes, one = (seen[i] for i in ids)
    assert [(e.type, e.kv.key, e.kv.value) for e in plain] == [
        (0, b"/t/view/a", b"new"), (0, b"/t/view/b", b"other"), (1, b"/t/view/a", b"")], plain
    assert [e.kv.mod_revision for e in plain] == [first, first + 1, first + 2], plain
    assert not any(e.HasField("prev_kv") for e in plain), plain
    assert [e.prev_kv.value for e in prev] == [b"old", b"", b"new"], prev
    assert [(e.type, e.kv.key) for e in deletes] == [(1, b"/t/view/a")], deletes
    assert [(e.type, e.kv.value) for e in one] == [(0, b"new"), (1, b"")], one



class RawHTTP2:
    """An HTTP/2 connection spoken frame by frame over a plain socket, to send what gRPC
    libraries send only under load (a PING after every DATA frame received)."""
    PING, GOAWAY, SETTINGS = 6, 7, 4

    def __init__(self):
        self.socket = socket.create_connection((HOST, PORT), timeout=20)
        self.buffer = b""
        self.socket.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + self.frame(self.SETTINGS, 0, b""))

    @staticmethod
    def frame(kind, flags, payload, stream=0):
        return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

    def ping(self, n):
        return self.frame(self.PING, 0, struct.pack(">Q", n))

    def next_frame(self):
        """(type, flags, payload), or None once the server closed the connection."""
        while len(self.buffer) < 9 or len(self.buffer) < 9 + int.from_bytes(self.buffer[:3], "big"):
            chunk = self.socket.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        length = int.from_bytes(self.buffer[:3], "big")
        kind, flags = self.buffer[3], self.buffer[4]
        payload = self.buffer[9:9 + length]
        self.buffer = self.buffer[9 + length:]
        if kind == self.SETTINGS and not flags & 1:
            self.socket.sendall(self.frame(self.SETTINGS, 1, b""))
        return kind, flags, payload

    def acks_until(self, last):
        """Reads until the ACK of PING `last`; returns how many PING ACKs came and the GOAWAY
        error code if the server sent one."""
        acks = 0
        while True:
            got = self.next_frame()
            if got is None:
                return acks, None
            kind, flags, payload = got
            if kind == self.PING and flags & 1:
                acks += 1
                if struct.unpack(">Q", payload)[0] == last:
                    return acks, None
            if kind == self.GOAWAY:
                return acks, struct.unpack(">I", payload[4:8])[0]


@checks.check
def a_client_that_pings_after_every_response_keeps_its_connection():
    # grpc-go sends a bandwidth-probing PING whenever DATA arrives and its last PING has been
    # answered: a client reading a busy watch sends hundreds a second. 1,500 over 1.5 s
    # must all be answered, with no GOAWAY (NIOHTTP2's default allowed 200 per 30 s).
    connection = RawHTTP2()
    acks = 0
    for n in range(1, 1501):
        connection.socket.sendall(connection.ping(n))
        got, goaway = connection.acks_until(n)
        acks += got
        assert goaway is None, f"GOAWAY {goaway} after {n} PINGs"
        if n % 100 == 0:
            time.sleep(0.1)
    assert acks == 1500, acks
    connection.socket.close()
    assert put(b"/t/pinged", b"ok").header.revision > 0


@checks.check
def a_ping_flood_gets_a_goaway():
    # Far beyond any client's probing: PINGs sent in bursts of 1,000 as fast as they are
    # answered. Past 2,000 in 200 ms the server answers with GOAWAY ENHANCE_YOUR_CALM
    # (0xb) and closes the connection; other clients go on.
    connection = RawHTTP2()
    sent, acks, goaway = 0, 0, None
    while goaway is None and sent < 30000:
        connection.socket.sendall(b"".join(connection.ping(n) for n in range(sent + 1, sent + 1001)))
        sent += 1000
        got, goaway = connection.acks_until(sent)
        acks += got
    assert goaway == 0xB, (sent, acks, goaway)
    assert 1900 <= acks < sent, (sent, acks)
    connection.socket.close()
    assert put(b"/t/flooded", b"ok").header.revision > 0


checks.finish()
