"""Seeded hostile etcd v3 gRPC calls: random bytes as the message of every read method, and
structured but extreme messages (huge limits, inverted and empty ranges, deep transactions,
lease TTLs at the edges, compaction past the head) for the write methods, confined to the
`/fuzz/` prefix so the canaries (and the Kubernetes objects) are never targets of a write."""
import grpc
from etcd3.etcdrpc import rpc_pb2

OK_CODES = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE,
            grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED,
            grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.ALREADY_EXISTS,
            grpc.StatusCode.ABORTED}
READ_METHODS = ["/etcdserverpb.KV/Range", "/etcdserverpb.Lease/LeaseTimeToLive", "/etcdserverpb.Lease/LeaseLeases",
                "/etcdserverpb.Maintenance/Status", "/etcdserverpb.Cluster/MemberList", "/etcdserverpb.Maintenance/Alarm",
                "/etcdserverpb.Maintenance/HashKV", "/etcdserverpb.KV/Nothing", "/etcdserverpb.Auth/Authenticate"]


def key(rng):
    return b"/fuzz/" + rng.choice([b"", b"a", b"\x00", b"\xff" * 3, rng.randbytes(rng.randrange(30)), b"k" * 2000])


def range_request(rng):
    request = rpc_pb2.RangeRequest(key=rng.choice([b"\x00", b"/", b"/registry/", key(rng), b""]))
    if rng.random() < 0.6:
        request.range_end = rng.choice([b"\x00", b"", b"/registry0", b"\x01", key(rng)])
    request.limit = rng.choice([0, 1, -1, 2**63 - 1, -(2**63)])
    request.revision = rng.choice([0, 1, -1, 2**63 - 1, 5])
    request.keys_only = rng.random() < 0.3
    request.count_only = rng.random() < 0.2
    request.serializable = rng.random() < 0.5
    request.sort_order = rng.choice([0, 1, 2, 7])
    request.sort_target = rng.choice([0, 1, 2, 3, 4, 9])
    request.min_mod_revision = rng.choice([0, -5, 2**63 - 1])
    request.max_create_revision = rng.choice([0, -5, 2**63 - 1])
    return "/etcdserverpb.KV/Range", request


def put_request(rng):
    value = rng.choice([b"", b"x", rng.randbytes(rng.randrange(100)), b"v" * rng.choice([1000, 1_500_000, 3_000_000])])
    return "/etcdserverpb.KV/Put", rpc_pb2.PutRequest(key=key(rng), value=value, lease=rng.choice([0, 1, -1, 2**63 - 1]),
                                                       prev_kv=rng.random() < 0.5, ignore_value=rng.random() < 0.1,
                                                       ignore_lease=rng.random() < 0.1)


def delete_request(rng):
    request = rpc_pb2.DeleteRangeRequest(key=key(rng), prev_kv=rng.random() < 0.5)
    if rng.random() < 0.5:
        request.range_end = b"/fuzz0"
    return "/etcdserverpb.KV/DeleteRange", request


def txn_request(rng):
    request = rpc_pb2.TxnRequest()
    for _ in range(rng.choice([0, 1, 3, 129, 2000])):
        compare = request.compare.add(key=key(rng), target=rng.choice([0, 1, 2, 3, 4, 9]), result=rng.choice([0, 1, 2, 3, 8]))
        compare.version = rng.choice([0, -1, 2**63 - 1])
    for branch in (request.success, request.failure):
        for _ in range(rng.choice([0, 1, 2, 129])):
            op = branch.add()
            roll = rng.random()
            if roll < 0.4:
                op.request_put.key, op.request_put.value = key(rng), b"v"
            elif roll < 0.7:
                op.request_range.key = key(rng)
                op.request_range.limit = rng.choice([0, -1, 2**63 - 1])
            elif roll < 0.9:
                op.request_delete_range.key = key(rng)
            else:
                op.request_txn.compare.add(key=key(rng))
    return "/etcdserverpb.KV/Txn", request


def lease_request(rng):
    roll = rng.random()
    if roll < 0.5:
        return "/etcdserverpb.Lease/LeaseGrant", rpc_pb2.LeaseGrantRequest(TTL=rng.choice([0, 1, -1, 2**63 - 1, 9_000_000_000]), ID=rng.choice([0, -1, 7, 2**63 - 1]))
    if roll < 0.8:
        return "/etcdserverpb.Lease/LeaseRevoke", rpc_pb2.LeaseRevokeRequest(ID=rng.choice([0, -1, 7, 2**63 - 1]))
    return "/etcdserverpb.Lease/LeaseTimeToLive", rpc_pb2.LeaseTimeToLiveRequest(ID=rng.choice([0, -1, 7]), keys=True)


def compact_request(rng):
    return "/etcdserverpb.KV/Compact", rpc_pb2.CompactionRequest(revision=rng.choice([-1, 0, 1, 2**63 - 1]), physical=rng.random() < 0.5)


STRUCTURED = [range_request, range_request, put_request, delete_request, txn_request, lease_request, compact_request]


def call(rng, channel):
    """One call; returns its gRPC status code (a code outside OK_CODES is a finding)."""
    if rng.random() < 0.35:
        method = rng.choice(READ_METHODS)
        message = rng.randbytes(rng.choice([0, 1, 5, 50, 500]))
        if rng.random() < 0.2:
            message = b"\x0a\xff\xff\xff\xff\x0f"  # a length far past the end
    else:
        method, request = rng.choice(STRUCTURED)(rng)
        message = request.SerializeToString()
    stub = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    try:
        stub(message, timeout=10)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
