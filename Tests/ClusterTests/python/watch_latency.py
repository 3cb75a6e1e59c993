"""Watches a key prefix on one `skiff etcd` and writes through another; prints the delay.

Usage: python3 watch_latency.py WATCH_HOST:PORT WRITE_HOST:PORT COUNT
Prints one JSON object: {"delays_ms": [...]} with, for each of COUNT puts made through the
second endpoint, the time from the put's return to the event's arrival on the first.
"""
import json
import sys
import threading
import time

import etcd3

watch_host, watch_port = sys.argv[1].rsplit(":", 1)
write_host, write_port = sys.argv[2].rsplit(":", 1)
count = int(sys.argv[3])
watcher = etcd3.client(host=watch_host, port=int(watch_port), timeout=30)
writer = etcd3.client(host=write_host, port=int(write_port), timeout=30)

arrived = {}
done = threading.Event()


def on_event(response):
    now = time.time()
    for event in getattr(response, "events", []):
        arrived[event.key.decode()] = now
    if len(arrived) >= count:
        done.set()


watch_id = watcher.add_watch_prefix_callback("/latency/", on_event)
time.sleep(0.5)
written = {}
for i in range(count):
    key = "/latency/%04d" % i
    writer.put(key, "x")
    written[key] = time.time()
    time.sleep(0.05)
done.wait(30)
watcher.cancel_watch(watch_id)
delays = [max(0.0, (arrived[k] - written[k]) * 1000) for k in written if k in arrived]
print(json.dumps({"delays_ms": delays, "missing": [k for k in written if k not in arrived]}))
