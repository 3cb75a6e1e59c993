"""Drives a running `skiff etcd` with Python's etcd3 client (PyPI `etcd3`, protobuf<4).

Usage: python3 etcd3_client.py HOST PORT
Each check raises on failure; the script prints one line per passed check and a summary.
"""
import sys
import threading
import time

import etcd3
import etcd3.exceptions

from checks import Checks

HOST, PORT = sys.argv[1], int(sys.argv[2])
client = etcd3.client(host=HOST, port=PORT, timeout=30)
checks = Checks()


def put_get_delete():
    client.put("/py/a", "1")
    client.put("/py/b", "2")
    value, meta = client.get("/py/a")
    assert value == b"1", value
    assert meta.version == 1
    assert sorted(v for v, _ in client.get_prefix("/py/")) == [b"1", b"2"]
    assert client.delete("/py/a") is True
    assert client.get("/py/a") == (None, None)
    assert client.delete("/py/missing") is False
    client.delete_prefix("/py/")
    assert list(client.get_prefix("/py/")) == []


def transactions():
    client.put("/tx/k", "v1")
    ok, responses = client.transaction(
        compare=[client.transactions.value("/tx/k") == "v1", client.transactions.version("/tx/none") == 0],
        success=[client.transactions.put("/tx/k", "v2"), client.transactions.put("/tx/other", "o"),
                 client.transactions.get("/tx/k")],
        failure=[client.transactions.put("/tx/k", "never")],
    )
    assert ok is True
    assert responses[2][0][0] == b"v2", responses
    _, a = client.get("/tx/k")
    _, b = client.get("/tx/other")
    assert a.mod_revision == b.mod_revision, (a.mod_revision, b.mod_revision)
    ok, responses = client.transaction(
        compare=[client.transactions.mod("/tx/k") < 1],
        success=[client.transactions.delete("/tx/k")],
        failure=[client.transactions.get("/tx/k")],
    )
    assert ok is False
    assert responses[0][0][0] == b"v2"


def too_many_txn_operations():
    try:
        client.transaction(compare=[], success=[client.transactions.put("/many/%d" % i, "x") for i in range(129)], failure=[])
    except Exception as error:  # grpc error carrying etcd's message
        assert "too many operations in txn request" in str(error), error
    else:
        raise AssertionError("129 operations were accepted")
    ok, _ = client.transaction(compare=[], success=[client.transactions.put("/many/%d" % i, "x") for i in range(128)], failure=[])
    assert ok
    client.delete_prefix("/many/")


def leases():
    lease = client.lease(ttl=60)
    client.put("/lease/k", "v", lease=lease)
    assert lease.granted_ttl == 60
    assert 55 <= lease.remaining_ttl <= 60, lease.remaining_ttl
    assert lease.keys == [b"/lease/k"], lease.keys
    lease.refresh()
    lease.revoke()
    assert client.get("/lease/k") == (None, None)
    short = client.lease(ttl=3)
    client.put("/lease/short", "v", lease=short)
    deadline = time.time() + 20
    while client.get("/lease/short") != (None, None):
        assert time.time() < deadline, "a 3 s lease did not expire within 20 s"
        time.sleep(0.1)


def watch_sees_every_event_of_concurrent_writers_in_order():
    start = client.status().raft_index + 1
    events_iterator, cancel = client.watch_prefix("/watch/", start_revision=start)
    writers, per_writer = 4, 1250
    received = []

    def consume():
        for event in events_iterator:
            received.append(event)
            if len(received) == writers * per_writer:
                break

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()

    def write(w):
        local = etcd3.client(host=HOST, port=PORT, timeout=30)
        for i in range(per_writer):
            local.put("/watch/w%d" % w, str(i))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    consumer.join(timeout=120)
    cancel()
    assert len(received) == writers * per_writer, len(received)
    revisions = [e.mod_revision for e in received]
    assert revisions == list(range(start, start + writers * per_writer)), "revisions not contiguous and in order"
    for w in range(writers):
        values = [int(e.value) for e in received if e.key == ("/watch/w%d" % w).encode()]
        assert values == list(range(per_writer)), "writer %d's values out of order" % w


def watch_replay_carries_previous_value_and_lease():
    lease = client.lease(ttl=600)
    client.put("/pk", "v1", lease=lease)
    start = client.status().raft_index
    client.put("/pk", "v2")
    client.delete("/pk")
    events_iterator, cancel = client.watch("/pk", start_revision=start, prev_kv=True)
    received = []

    def consume():
        for event in events_iterator:
            received.append(event)
            if len(received) == 5:
                break

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    # Replayed from the log: the create, an update and the delete. Then live: a recreate
    # with the lease and an update.
    deadline = time.time() + 30
    while len(received) < 3 and time.time() < deadline:
        time.sleep(0.05)
    client.put("/pk", "v3", lease=lease)
    client.put("/pk", "v4")
    consumer.join(timeout=30)
    cancel()
    lease.revoke()
    assert len(received) == 5, received
    kinds = [type(e).__name__ for e in received]
    assert kinds == ["PutEvent", "PutEvent", "DeleteEvent", "PutEvent", "PutEvent"], kinds
    assert [e.prev_value for e in received] == [b"", b"v1", b"v2", b"", b"v3"], [e.prev_value for e in received]
    assert [e.prev_lease for e in received] == [0, lease.id, 0, 0, lease.id], [e.prev_lease for e in received]


def watch_from_compacted_revision_is_refused():
    for i in range(5):
        client.put("/cw", str(i))
    revision = client.status().raft_index
    client.compact(revision)
    try:
        events, cancel = client.watch("/cw", start_revision=revision - 3)
        next(iter(events))
    except etcd3.exceptions.RevisionCompactedError as error:
        assert error.compacted_revision == revision, error.compacted_revision
    else:
        raise AssertionError("a watch from a compacted revision was not refused")


def status_and_members():
    status = client.status()
    assert status.version >= "3.5.13", status.version
    assert status.db_size > 0
    assert status.leader.id == list(client.members)[0].id


for test in [put_get_delete, transactions, too_many_txn_operations, leases,
             watch_sees_every_event_of_concurrent_writers_in_order, watch_replay_carries_previous_value_and_lease,
             watch_from_compacted_revision_is_refused,
             status_and_members]:
    checks.run(test)
checks.finish()
