"""Watch streams on a member that has lost its leader, as clientv3.WithRequireLeader (used by
kube-apiserver) and a plain client open them.

Usage: python3 require_leader.py HOST:PORT SECONDS
Opens two Watch streams on the member: one with the metadata `hasleader: true`, one without.
Prints one JSON object: how the first ended (gRPC code and details, or "open" if it was
still open after SECONDS) and whether the second was still open then.
"""
import json
import queue
import sys
import threading
import time

import grpc

target, seconds = sys.argv[1], float(sys.argv[2])
channel = grpc.insecure_channel(target)
watch = channel.stream_stream("/etcdserverpb.Watch/Watch", request_serializer=None, response_deserializer=None)


def open_stream(metadata):
    requests = queue.Queue()
    return requests, watch(iter(requests.get, None), metadata=metadata, timeout=seconds + 30)


outcome = {}


def follow(call):
    try:
        for _ in call:
            pass
        outcome["code"], outcome["details"] = "OK", ""
    except grpc.RpcError as error:
        outcome["code"], outcome["details"] = error.code().name, error.details()


required_requests, required = open_stream([("hasleader", "true")])
plain_requests, plain = open_stream(None)
reader = threading.Thread(target=follow, args=(required,), daemon=True)
started = time.monotonic()
reader.start()
reader.join(seconds)
ended_after = time.monotonic() - started
result = {
    "required": outcome if outcome else {"code": "open"},
    "required_ended_after_s": round(ended_after, 2),
    "plain_open": not plain.done(),
}
plain.cancel()
required.cancel()
print(json.dumps(result))
