"""Writes to an etcd v3 endpoint at a fixed rate, each value carrying its send time.

Usage: python3 paced_writer.py HOST PORT RATE SECONDS PREFIX
Values are CLOCK_MONOTONIC nanoseconds (time.monotonic_ns), so that a reader on the same
machine can tell how long each change took to reach it. Uses the etcd3 client (grpcio).
"""
import sys
import threading
import time

import etcd3

host, port, rate, seconds, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
total = int(rate * seconds)
threads = 4
start = time.monotonic() + 0.2
errors = []


def write(t):
    client = etcd3.client(host=host, port=port, timeout=30)
    for k in range(t, total, threads):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            client.put("%s%d" % (prefix, k % 100), str(time.monotonic_ns()))
        except Exception as error:  # count, do not stop: the reader reports missing events
            errors.append(error)


workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
elapsed = time.monotonic() - start
# Filler writes (values that are not times, ignored by readers) push out whatever a
# watching client still holds in its output buffer.
filler = etcd3.client(host=host, port=port, timeout=30)
for i in range(300):
    filler.put("%sfiller" % prefix, "flush")
print("wrote %d of %d in %.2f s" % (total - len(errors), total, elapsed))
