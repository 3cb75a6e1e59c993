"""Writes a continuous load through one or more `skiff etcd` endpoints with Python's etcd3.

Usage: python3 load_writer.py SECONDS ENDPOINT [ENDPOINT...]   (ENDPOINT = HOST:PORT)

Two threads per endpoint put keys /load/<thread>/<n> one after another for SECONDS seconds.
Prints one JSON object: every acknowledged key with the wall-clock time its put returned,
and the errors seen (a put that fails is not acknowledged and is not counted).
"""
import json
import sys
import threading
import time

import etcd3

SECONDS = float(sys.argv[1])
ENDPOINTS = sys.argv[2:]
acked = []
errors = []
lock = threading.Lock()


def writer(name, host, port):
    client = etcd3.client(host=host, port=int(port), timeout=30)
    deadline = time.time() + SECONDS
    n = 0
    while time.time() < deadline:
        key = "/load/%s/%06d" % (name, n)
        try:
            client.put(key, "v%d" % n)
            with lock:
                acked.append([key, time.time()])
        except Exception as error:  # a failed put is simply not acknowledged
            with lock:
                errors.append(repr(error)[:200])
            time.sleep(0.05)
        n += 1


threads = []
for i, endpoint in enumerate(ENDPOINTS):
    host, port = endpoint.rsplit(":", 1)
    for j in range(2):
        t = threading.Thread(target=writer, args=("w%d%d" % (i, j), host, port))
        t.start()
        threads.append(t)
for t in threads:
    t.join()
print(json.dumps({"acked": acked, "errors": errors}))
