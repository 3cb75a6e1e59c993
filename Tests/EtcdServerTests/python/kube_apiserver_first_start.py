"""What kube-apiserver asks of a new etcd, with Python's etcd3 stubs (grpcio) against a fresh
`skiff etcd`: revision 1 in every response header of an empty store (kube-apiserver refuses
"illegal resource version from storage: 0"), and its compaction protocol: the Txn on
`compact_rev_key` (compare the key's version, put the revision, else read it back), then
Compact, and the watch on the key that other kube-apiservers follow.

Usage: python3 kube_apiserver_first_start.py HOST PORT   (the store must be new)
"""
import sys

import grpc
from etcd3 import etcdrpc
from etcd3.etcdrpc import rpc_pb2

from checks import Checks

HOST, PORT = sys.argv[1], int(sys.argv[2])
channel = grpc.insecure_channel(f"{HOST}:{PORT}")
kv, lease, maintenance, watch = (etcdrpc.KVStub(channel), etcdrpc.LeaseStub(channel),
                                 etcdrpc.MaintenanceStub(channel), etcdrpc.WatchStub(channel))
checks = Checks()
KEY = b"compact_rev_key"


@checks.check
def an_empty_store_is_at_revision_1_everywhere():
    headers = {
        "Range": kv.Range(rpc_pb2.RangeRequest(key=b"/registry/", range_end=b"/registry0"), timeout=10).header,
        "Range count_only": kv.Range(rpc_pb2.RangeRequest(key=b"/registry/", range_end=b"/registry0", count_only=True), timeout=10).header,
        "Txn": kv.Txn(rpc_pb2.TxnRequest(compare=[rpc_pb2.Compare(key=b"x", target=rpc_pb2.Compare.VERSION, version=0)]), timeout=10).header,
        "Status": maintenance.Status(rpc_pb2.StatusRequest(), timeout=10).header,
        "LeaseGrant": lease.LeaseGrant(rpc_pb2.LeaseGrantRequest(TTL=60), timeout=10).header,
    }
    created = next(iter(watch.Watch(iter([rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=b"/registry/"))]),
                                    timeout=10)))
    headers["Watch"] = created.header
    wrong = {name: header.revision for name, header in headers.items() if header.revision != 1}
    assert not wrong, f"revisions other than 1: {wrong}"
    # A Txn that wrote nothing and a lease are not revisions: the store is still at 1.
    assert kv.Range(rpc_pb2.RangeRequest(key=b"a"), timeout=10).header.revision == 1


def compact(expect_version, rev):
    """kube-apiserver's Compact (staging/.../storage/etcd3/compact.go), step for step."""
    response = kv.Txn(rpc_pb2.TxnRequest(
        compare=[rpc_pb2.Compare(key=KEY, target=rpc_pb2.Compare.VERSION, result=rpc_pb2.Compare.EQUAL, version=expect_version)],
        success=[rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=KEY, value=str(rev).encode()))],
        failure=[rpc_pb2.RequestOp(request_range=rpc_pb2.RangeRequest(key=KEY))]), timeout=10)
    current_rev = response.header.revision
    if not response.succeeded:
        kvs = response.responses[0].response_range.kvs
        return kvs[0].version, current_rev, int(kvs[0].value), False
    if rev == 0:
        return expect_version + 1, current_rev, 0, True
    kv.Compact(rpc_pb2.CompactionRequest(revision=rev), timeout=10)
    return expect_version + 1, current_rev, rev, True


@checks.check
def kube_apiservers_compaction_rounds_compact():
    # Round 1 (bootstrap): the key does not exist, version 0; the Txn puts it, nothing is compacted.
    version, rev, compacted, won = compact(0, 0)
    assert won and version == 1 and compacted == 0 and rev == 2, (version, rev, compacted, won)
    for i in range(10):
        kv.Put(rpc_pb2.PutRequest(key=b"/registry/configmaps/default/c", value=b"v%d" % i), timeout=10)
    old = kv.Range(rpc_pb2.RangeRequest(key=b"/registry/configmaps/default/c", revision=3), timeout=10)
    assert old.kvs[0].value == b"v0", old
    # Another kube-apiserver follows the key with a watch from the current revision.
    follower = watch.Watch(iter([rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=KEY, start_revision=rev + 1))]),
                           timeout=10)
    assert next(follower).created
    # Round 2: compacts to the revision round 1 saw.
    version, rev2, compacted, won = compact(version, rev)
    assert won and version == 2 and compacted == rev == 2 and rev2 == 13, (version, rev2, compacted, won)
    event = next(follower)
    assert event.events[0].kv.key == KEY and event.events[0].kv.value == b"2" and event.events[0].kv.version == 2, event
    try:
        kv.Range(rpc_pb2.RangeRequest(key=b"/registry/configmaps/default/c", revision=1), timeout=10)
        raise AssertionError("a read below the compacted revision succeeded")
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.OUT_OF_RANGE and "compacted" in error.details(), error
    assert kv.Range(rpc_pb2.RangeRequest(key=b"/registry/configmaps/default/c", revision=3), timeout=10).kvs[0].value == b"v0"
    # A kube-apiserver whose compact time is stale loses the CAS and learns the current one.
    version, _, compacted, won = compact(1, 13)
    assert not won and version == 2 and compacted == 2, (version, compacted, won)
    # Round 3 by the winner compacts past the older values.
    version, _, compacted, won = compact(2, rev2)
    assert won and compacted == 13
    try:
        kv.Range(rpc_pb2.RangeRequest(key=b"/registry/configmaps/default/c", revision=3), timeout=10)
        raise AssertionError("a read below the second compaction succeeded")
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.OUT_OF_RANGE, error


checks.finish()
