"""Drives the Watch protocol of a running etcd v3 endpoint with raw gRPC streams (grpcio):
client-chosen and duplicate watch IDs, filters, cancelling one watch of a stream, and a
progress request answered after every event already sent (these pass against Debian's
etcd too), and a watch whose client stops reading, which falls behind and catches up, or
is cancelled with the compact revision if what it missed was compacted meanwhile; and
periodic progress for watches created with progress_notify (the server must run with
--experimental-watch-progress-notify-interval 1s).

Usage: python3 watch_protocol.py HOST PORT
Prints one line per check and a summary; exits non-zero if a check failed.
"""
import queue
import sys
import threading

import grpc
from etcd3.etcdrpc import rpc_pb2

from checks import Checks

HOST, PORT = sys.argv[1], int(sys.argv[2])
channel = grpc.insecure_channel(f"{HOST}:{PORT}")
kv_put = channel.unary_unary("/etcdserverpb.KV/Put", request_serializer=rpc_pb2.PutRequest.SerializeToString,
                             response_deserializer=rpc_pb2.PutResponse.FromString)
kv_compact = channel.unary_unary("/etcdserverpb.KV/Compact", request_serializer=rpc_pb2.CompactionRequest.SerializeToString,
                                 response_deserializer=rpc_pb2.CompactionResponse.FromString)
kv_delete = channel.unary_unary("/etcdserverpb.KV/DeleteRange",
                                request_serializer=rpc_pb2.DeleteRangeRequest.SerializeToString,
                                response_deserializer=rpc_pb2.DeleteRangeResponse.FromString)
watch_method = channel.stream_stream("/etcdserverpb.Watch/Watch", request_serializer=None,
                                     response_deserializer=rpc_pb2.WatchResponse.FromString)
checks = Checks()
PUT, DELETE = 0, 1


def varint(n):
    out = b""
    n &= (1 << 64) - 1
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


# The etcd3 package's messages predate WatchCreateRequest.watch_id (field 7) and
# WatchRequest.progress_request (field 3): those fields are added in wire format here.
def create_request(watch_id=0, **fields):
    inner = rpc_pb2.WatchCreateRequest(**fields).SerializeToString()
    if watch_id:
        inner += b"\x38" + varint(watch_id)
    return b"\x0a" + varint(len(inner)) + inner


def cancel_request(watch_id):
    return rpc_pb2.WatchRequest(cancel_request=rpc_pb2.WatchCancelRequest(watch_id=watch_id)).SerializeToString()


PROGRESS_REQUEST = b"\x1a\x00"


def put(key, value):
    return kv_put(rpc_pb2.PutRequest(key=key, value=value), timeout=30).header.revision


def delete(key):
    return kv_delete(rpc_pb2.DeleteRangeRequest(key=key), timeout=30).header.revision


class WatchStream:
    """One Watch call: requests are sent whenever the check wants, responses read in order."""

    def __init__(self, method=watch_method):
        self.requests = queue.Queue()
        self.call = method(iter(self.requests.get, None), timeout=60)

    def send(self, request):
        self.requests.put(request)

    def create(self, **fields):
        self.send(create_request(**fields))
        return next(self.call)

    def next(self):
        return next(self.call)

    def close(self):
        self.call.cancel()
        self.requests.put(None)


@checks.check
def client_chosen_and_duplicate_watch_ids():
    stream = WatchStream()
    try:
        chosen = stream.create(key=b"/p/ids", watch_id=7)
        assert chosen.created and not chosen.canceled and chosen.watch_id == 7, chosen
        duplicate = stream.create(key=b"/p/ids", watch_id=7)
        assert duplicate.created and duplicate.canceled, duplicate
        assert "duplicate watch ID" in duplicate.cancel_reason, duplicate.cancel_reason
        automatic = stream.create(key=b"/p/ids")
        assert automatic.created and not automatic.canceled and automatic.watch_id != 7, automatic
        # Watch 7 still works.
        revision = put(b"/p/ids", b"1")
        seen = {}
        while len(seen) < 2:
            response = stream.next()
            seen[response.watch_id] = [e.kv.mod_revision for e in response.events]
        assert seen == {7: [revision], automatic.watch_id: [revision]}, seen
    finally:
        stream.close()


@checks.check
def filters_and_cancelling_one_watch_of_a_stream():
    stream = WatchStream()
    try:
        no_delete = stream.create(key=b"/p/f/", range_end=b"/p/f0", filters=[rpc_pb2.WatchCreateRequest.NODELETE]).watch_id
        no_put = stream.create(key=b"/p/f/", range_end=b"/p/f0", filters=[rpc_pb2.WatchCreateRequest.NOPUT]).watch_id
        put(b"/p/f/a", b"1")
        removed = delete(b"/p/f/a")
        got = {no_delete: [], no_put: []}
        while not (got[no_delete] and got[no_put]):
            response = stream.next()
            got[response.watch_id] += [(e.type, e.kv.key) for e in response.events]
        assert got[no_delete] == [(PUT, b"/p/f/a")], got
        assert got[no_put] == [(DELETE, b"/p/f/a")], got
        stream.send(cancel_request(no_delete))
        cancelled = stream.next()
        assert cancelled.canceled and cancelled.watch_id == no_delete, cancelled
        put(b"/p/f/b", b"2")
        again = delete(b"/p/f/b")
        response = stream.next()
        # The cancelled watch saw nothing more; the other one saw the second delete.
        assert response.watch_id == no_put, response
        assert [(e.type, e.kv.mod_revision) for e in response.events] == [(DELETE, again)], response
        assert again > removed
    finally:
        stream.close()


@checks.check
def a_progress_request_is_answered_after_every_event_sent():
    stream = WatchStream()
    try:
        first = stream.create(key=b"/p/r/", range_end=b"/p/r0").watch_id
        second = stream.create(key=b"/p/r/", range_end=b"/p/r0", prev_kv=True).watch_id
        revisions = [put(b"/p/r/%d" % (i % 2), b"%d" % i) for i in range(5)]
        stream.send(PROGRESS_REQUEST)
        events = {first: [], second: []}
        while True:
            response = stream.next()
            if response.watch_id == -1 or (not response.events and not response.created and not response.canceled):
                progress = response
                break
            events[response.watch_id] += [e.kv.mod_revision for e in response.events]
        assert events == {first: revisions, second: revisions}, events
        assert progress.watch_id == -1, progress
        assert progress.header.revision == revisions[-1], (progress.header.revision, revisions)
    finally:
        stream.close()



def slow_reader_stream():
    """A Watch stream on a channel without bandwidth probing, so the client's windows stay
    small while nothing is read: what the server sends piles up on the server's side of
    the stream, past the 32 MiB at which skiff stops sending to a watch."""
    slow_channel = grpc.insecure_channel(f"{HOST}:{PORT}", options=[("grpc.http2.bdp_probe", 0),
                                                                     ("grpc.max_receive_message_length", 8 << 20)])
    method = slow_channel.stream_stream("/etcdserverpb.Watch/Watch", request_serializer=None,
                                        response_deserializer=rpc_pb2.WatchResponse.FromString)
    return slow_channel, WatchStream(method)


@checks.check
def a_watch_whose_client_stops_reading_falls_behind_and_catches_up():
    # Once the client reads again, the watch resumes from the first change it missed:
    # every change arrives, once, in order.
    slow_channel, stream = slow_reader_stream()
    try:
        slow = stream.create(key=b"/p/slow/", range_end=b"/p/slow0").watch_id
        quiet = stream.create(key=b"/p/quiet").watch_id
        value = b"v" * (1 << 20)
        revisions = [put(b"/p/slow/%d" % (i % 4), value) for i in range(48)]
        seen = []
        while len(seen) < len(revisions):
            response = stream.next()
            assert response.watch_id == slow and not response.canceled, response
            seen += [e.kv.mod_revision for e in response.events]
        assert seen == revisions, (seen, revisions)
        # The stream and its other watch go on.
        revision = put(b"/p/quiet", b"1")
        response = stream.next()
        assert response.watch_id == quiet and [e.kv.mod_revision for e in response.events] == [revision], response
    finally:
        stream.close()
        slow_channel.close()


@checks.check
def a_watch_that_fell_behind_past_a_compaction_is_cancelled_with_the_compact_revision():
    # The changes it missed are compacted before the client reads again: it cannot resume,
    # and is cancelled as a watch created that far back would be.
    slow_channel, stream = slow_reader_stream()
    try:
        slow = stream.create(key=b"/p/gone/", range_end=b"/p/gone0").watch_id
        value = b"v" * (1 << 20)
        revisions = [put(b"/p/gone/%d" % (i % 4), value) for i in range(48)]
        kv_compact(rpc_pb2.CompactionRequest(revision=revisions[-1], physical=True), timeout=30)
        seen, cancelled = [], None
        while cancelled is None:
            response = stream.next()
            assert response.watch_id == slow, response
            seen += [e.kv.mod_revision for e in response.events]
            if response.canceled:
                cancelled = response
        assert cancelled.compact_revision == revisions[-1], cancelled
        assert "compacted" in cancelled.cancel_reason, cancelled.cancel_reason
        # What came before the cancellation came in order, from the first change, no gap.
        assert seen == revisions[:len(seen)] and len(seen) < len(revisions), (len(seen), len(revisions))
    finally:
        stream.close()
        slow_channel.close()


@checks.check
def a_progress_notify_watch_gets_periodic_progress_and_no_other_watch_does():
    # The server runs with --experimental-watch-progress-notify-interval 1s.
    stream = WatchStream()
    try:
        notified = stream.create(key=b"/p/n/a", progress_notify=True).watch_id
        plain = stream.create(key=b"/p/n-other/", range_end=b"/p/n-other0").watch_id
        revision = put(b"/p/n/a", b"1")
        threading.Timer(3.5, lambda: put(b"/p/n-other/stop", b"x")).start()
        events, progress = [], []
        while True:
            response = stream.next()
            if response.events:
                events.append((response.watch_id, [e.kv.key for e in response.events]))
                if response.watch_id == plain:
                    break
            else:
                progress.append((response.watch_id, response.header.revision, len(events)))
        assert events[0] == (notified, [b"/p/n/a"]), events
        # About three in 3.5 s, every one for the progress_notify watch, none for the other;
        # those after the put report its revision at least.
        assert all(watch_id == notified for watch_id, _, _ in progress), progress
        after_put = [at for _, at, seen in progress if seen > 0]
        assert len(after_put) >= 2 and all(at >= revision for at in after_put), (progress, revision)
    finally:
        stream.close()


checks.finish()
