"""Watch-heavy churn with Python's kubernetes client: writer threads create and update
ConfigMaps as fast as they can while informer-style watcher threads (list, then watch from
the list's resourceVersion, list again after 410 Gone) follow the namespace. Every write
carries its send time (CLOCK_MONOTONIC ns); the lag of an event is its arrival minus that.

With RATE (writes per second, all writers together) the writers are paced, so that two
servers are compared at the same event load; without it they write as fast as they can.

Usage: api_churn.py KUBECONFIG NAMESPACE SECONDS WRITERS WATCHERS [RATE]
Prints "writes N errors E events V lag_p50_ms X lag_p99_ms Y".
"""
import os
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

kubeconfig, namespace = sys.argv[1:3]
seconds, writers, watchers = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rate = float(sys.argv[6]) if len(sys.argv) > 6 else 0
config.load_kube_config(kubeconfig)
run = os.urandom(3).hex()  # names of this run's own (a second run in the namespace creates anew)
stop_writing = threading.Event()
stop_watching = threading.Event()
lock = threading.Lock()
writes, errors, lags = [0], [0], []


def writer(n):
    api = client.CoreV1Api()
    names = ["churn-%s-%d-%d" % (run, n, i) for i in range(50)]
    created = set()
    i = 0
    started = time.monotonic()
    while not stop_writing.is_set():
        if rate > 0:
            delay = started + i * writers / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        name = names[i % len(names)]
        i += 1
        body = {"metadata": {"name": name}, "data": {"stamp": str(time.monotonic_ns())}}
        try:
            if name in created:
                api.patch_namespaced_config_map(name, namespace, body)
            else:
                api.create_namespaced_config_map(namespace, body)
                created.add(name)
            with lock:
                writes[0] += 1
        except ApiException:
            with lock:
                errors[0] += 1


def watcher(ready):
    api = client.CoreV1Api()
    while not stop_watching.is_set():
        listed = api.list_namespaced_config_map(namespace)
        version = listed.metadata.resource_version
        ready.set()
        w = watch.Watch()
        try:
            for event in w.stream(api.list_namespaced_config_map, namespace, resource_version=version,
                                  timeout_seconds=300, deserialize=False):
                now = time.monotonic_ns()
                stamp = (event["object"].get("data") or {}).get("stamp")
                if event["type"] in ("ADDED", "MODIFIED") and stamp:
                    with lock:
                        lags.append((now - int(stamp)) / 1e6)
                if stop_watching.is_set():
                    break
        except ApiException as error:
            if error.status != 410:
                with lock:
                    errors[0] += 1


ready = [threading.Event() for _ in range(watchers)]
threads = [threading.Thread(target=watcher, args=(ready[i],), daemon=True) for i in range(watchers)]
for t in threads:
    t.start()
for r in ready:
    r.wait(30)
write_threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(writers)]
for t in write_threads:
    t.start()
time.sleep(seconds)
stop_writing.set()
for t in write_threads:
    t.join(30)
time.sleep(3)  # the last events arrive
stop_watching.set()  # (the watcher threads are daemons: their open streams end with the process)
with lock:
    lags = sorted(lags)
p = lambda q: lags[min(len(lags) - 1, int(len(lags) * q))] if lags else float("nan")
print("writes %d errors %d events %d lag_p50_ms %.1f lag_p99_ms %.1f" % (writes[0], errors[0], len(lags), p(0.5), p(0.99)))
