"""Watch-heavy churn with Python's kubernetes client: writer threads create and update
ConfigMaps as fast as they can while informer-style watchers (list, then watch from the
list's resourceVersion, list again after 410 Gone) follow the namespace. Every write carries
its send time (CLOCK_MONOTONIC ns); the lag of an event is its arrival minus that.

Each watcher is a process of its own, as an informer in a controller is: threads of one
process would share its interpreter lock with each other and with the writers, and the lag
would mostly measure that lock (a thread waits up to 5 ms per hand-over).

With RATE (writes per second, all writers together) the writers are paced, so that two
servers are compared at the same event load; without it they write as fast as they can.

Usage: api_churn.py KUBECONFIG NAMESPACE SECONDS WRITERS WATCHERS [RATE]
Prints "writes N errors E events V lag_p50_ms X lag_p99_ms Y".
(api_churn.py --watch KUBECONFIG NAMESPACE is one watcher: "ready" once it has listed, then,
when its standard input ends, "lags L1 L2 ..." and "errors E".)
"""
import os
import subprocess
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

watch_mode = sys.argv[1] == "--watch"
if watch_mode:
    del sys.argv[1]
kubeconfig, namespace = sys.argv[1:3]
config.load_kube_config(kubeconfig)
stop_watching = threading.Event()
lock = threading.Lock()
writes, errors, lags = [0], [0], []


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


if watch_mode:
    ready = threading.Event()
    threading.Thread(target=watcher, args=(ready,), daemon=True).start()
    if not ready.wait(30):
        sys.exit("the watcher's list failed")
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes it
    stop_watching.set()
    with lock:
        print("lags " + " ".join("%.3f" % lag for lag in lags))
        print("errors %d" % errors[0], flush=True)
    os._exit(0)

seconds, writers, watchers = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rate = float(sys.argv[6]) if len(sys.argv) > 6 else 0
run = os.urandom(3).hex()  # names of this run's own (a second run in the namespace creates anew)
stop_writing = threading.Event()


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


processes = [subprocess.Popen([sys.executable, __file__, "--watch", kubeconfig, namespace], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(watchers)]
for process in processes:
    if process.stdout.readline().strip() != "ready":
        sys.exit("a watcher did not start")
write_threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(writers)]
for t in write_threads:
    t.start()
time.sleep(seconds)
stop_writing.set()
for t in write_threads:
    t.join(30)
time.sleep(3)  # the last events arrive
for process in processes:
    process.stdin.close()
for process in processes:
    for line in process.stdout:
        words = line.split()
        if words and words[0] == "lags":
            lags.extend(float(word) for word in words[1:])
        elif words and words[0] == "errors":
            errors[0] += int(words[1])
    process.wait(30)
lags = sorted(lags)
p = lambda q: lags[min(len(lags) - 1, int(len(lags) * q))] if lags else float("nan")
print("writes %d errors %d events %d lag_p50_ms %.1f lag_p99_ms %.1f" % (writes[0], errors[0], len(lags), p(0.5), p(0.99)))
