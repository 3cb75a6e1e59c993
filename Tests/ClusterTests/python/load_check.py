"""A closed-loop write load through every member of a `skiff etcd` cluster, then a check of
what the cluster kept, with Python's etcd3.

Usage: python3 load_check.py WRITES WRITERS_PER_ENDPOINT READY_FILE ENDPOINT [ENDPOINT...]
(ENDPOINT = HOST:PORT)

WRITERS_PER_ENDPOINT threads per endpoint put WRITES keys in all, each key once, each thread
its own keys one after another. A put that fails is sent again (to the next endpoint if the
connection failed) until it is answered; the error is recorded with its time. When half of
the writes are acknowledged, READY_FILE is created (the caller kills a member then).

Afterwards the history of the prefix is read back with a watch from the first to the last
acknowledged revision, through the first endpoint that answers, and compared with what the
writers were told. Prints one JSON object:
  acked          writes acknowledged (each key once)
  errors         [time, endpoint, error] of every failed attempt
  events         changes in the history read back (history_errors: endpoints that failed it)
  lost           acknowledged keys with no event in the history
  duplicated     keys written more than once although no attempt of theirs failed
  wrong_revision keys whose single event's revision is not the one their put was answered with
  not_increasing events whose revision is not above the one before (in history order)
  revisions_reused revisions carried by more than one event
"""
import json
import os
import sys
import threading
import time

import etcd3

WRITES = int(sys.argv[1])
# LOAD_SECONDS (for long manual soaks): writers start no new key after that many seconds.
STOP_AT = time.time() + float(os.environ["LOAD_SECONDS"]) if "LOAD_SECONDS" in os.environ else None
PER_ENDPOINT = int(sys.argv[2])
READY_FILE = sys.argv[3]
ENDPOINTS = sys.argv[4:]
PREFIX = "/loadcheck/"
VALUE = "x" * 256

lock = threading.Lock()
acked = {}          # key -> revision of the answer
errors = []         # [time, endpoint, error]
failed_keys = set()  # keys with at least one failed attempt (an ambiguous one may have applied)
ready = threading.Event()


def client_for(index):
    host, port = ENDPOINTS[index % len(ENDPOINTS)].rsplit(":", 1)
    return etcd3.client(host=host, port=int(port), timeout=15)


def writer(group, number, keys):
    index = group
    client = client_for(index)
    for key in keys:
        if STOP_AT is not None and time.time() > STOP_AT:
            return
        deadline = time.time() + 120
        while True:
            try:
                response = client.put(key, VALUE)
                with lock:
                    acked[key] = response.header.revision
                    if len(acked) * 2 >= WRITES and not ready.is_set():
                        ready.set()
                        open(READY_FILE, "w").close()
                break
            except Exception as error:  # recorded, then sent again
                with lock:
                    errors.append([time.time(), ENDPOINTS[index % len(ENDPOINTS)], type(error).__name__ + ": " + str(error)[:160]])
                    failed_keys.add(key)
                if time.time() > deadline:
                    return
                if isinstance(error, (etcd3.exceptions.ConnectionFailedError, etcd3.exceptions.ConnectionTimeoutError)):
                    index += 1
                    client = client_for(index)
                time.sleep(0.05)


threads = []
total_writers = PER_ENDPOINT * len(ENDPOINTS)
for group in range(len(ENDPOINTS)):
    for number in range(PER_ENDPOINT):
        writer_index = group * PER_ENDPOINT + number
        keys = (PREFIX + "%02d-%02d/%09d" % (group, number, n) for n in range(writer_index, WRITES, total_writers))
        thread = threading.Thread(target=writer, args=(group, number, keys))
        thread.start()
        threads.append(thread)
for thread in threads:
    thread.join()

# The history, from the first acknowledged revision to the newest.
first = min(acked.values()) if acked else 1
events = []
history_errors = []  # endpoints that did not answer (the killed member's, say)
for endpoint_index in range(len(ENDPOINTS)):
    try:
        client = client_for(endpoint_index)
        last = max(acked.values()) if acked else 0
        iterator, cancel = client.watch_prefix(PREFIX, start_revision=first)
        timer = threading.Timer(60, cancel)  # a history that never reaches `last` ends here
        timer.start()
        for event in iterator:
            events.append((event.key.decode(), event.mod_revision, type(event).__name__))
            if event.mod_revision >= last:
                break
        timer.cancel()
        cancel()
        break
    except Exception as error:
        events = []
        history_errors.append([ENDPOINTS[endpoint_index], type(error).__name__ + ": " + str(error)[:160]])

by_key = {}
for key, revision, kind in events:
    by_key.setdefault(key, []).append(revision)
revisions = [revision for _, revision, _ in events]
print(json.dumps({
    "acked": len(acked),
    "errors": errors,
    "events": len(events),
    "history_errors": history_errors,
    "lost": [key for key in acked if key not in by_key][:20],
    "duplicated": [key for key, revs in by_key.items() if len(revs) > 1 and key not in failed_keys][:20],
    "wrong_revision": [[key, acked[key], by_key[key][0]] for key in acked
                       if key in by_key and len(by_key[key]) == 1 and by_key[key][0] != acked[key]][:20],
    "not_increasing": sum(1 for a, b in zip(revisions, revisions[1:]) if b <= a),
    "revisions_reused": len(revisions) - len(set(revisions)),
}))
