"""A watch on one member is never behind a write answered by another, as kube-apiserver's
watch cache needs: it reads the revision through one member (its etcd client spreads
unary calls over every endpoint), then starts a watch after that revision and asks for
progress on another member, and waits until the progress reaches the revision it read.

For each round: put through WRITE (revision R), then at once, on a new Watch stream on
WATCH, create a watch from R+1 and send a progress request. The "created" response's
header and the progress answer must both be at least R; and the next put through WRITE
must arrive on the watch.

Usage: python3 member_watch_revision.py WATCH_HOST:PORT WRITE_HOST:PORT ROUNDS
Prints one JSON object: {"behind": [...], "missed": [...], "rounds": N}.
"""
import json
import queue
import sys

import grpc
from etcd3 import etcdrpc
from etcd3.etcdrpc import rpc_pb2

watch_target, write_target, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
writer = etcdrpc.KVStub(grpc.insecure_channel(write_target))
watch_channel = grpc.insecure_channel(watch_target)
# WatchRequest.progress_request (field 3) is newer than the etcd3 package's messages.
watch_method = watch_channel.stream_stream("/etcdserverpb.Watch/Watch", request_serializer=None,
                                           response_deserializer=rpc_pb2.WatchResponse.FromString)
PROGRESS_REQUEST = b"\x1a\x00"

behind, missed = [], []
for i in range(rounds):
    key = b"/member-watch/%d" % i
    revision = writer.Put(rpc_pb2.PutRequest(key=key, value=b"a"), timeout=30).header.revision
    requests = queue.Queue()
    create = rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(
        key=b"/member-watch/", range_end=b"/member-watch0", start_revision=revision + 1))
    requests.put(create.SerializeToString())
    requests.put(PROGRESS_REQUEST)
    call = watch_method(iter(requests.get, None), timeout=30)
    try:
        created = next(call)
        progress = next(call)
        if created.header.revision < revision or progress.watch_id != -1 or progress.header.revision < revision:
            behind.append({"round": i, "put": revision, "created": created.header.revision,
                           "progress": progress.header.revision, "progress_watch_id": progress.watch_id})
        after = writer.Put(rpc_pb2.PutRequest(key=key, value=b"b"), timeout=30).header.revision
        event = next(call)
        seen = [e.kv.mod_revision for e in event.events]
        if seen != [after]:
            missed.append({"round": i, "expected": after, "seen": seen})
    finally:
        requests.put(None)
        call.cancel()
print(json.dumps({"behind": behind, "missed": missed, "rounds": rounds}))
