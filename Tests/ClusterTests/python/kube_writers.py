"""Creates and updates ConfigMaps through every member of a `skiff server` cluster with
Python's kubernetes client, then checks that every member serves every object as last written.

Usage: python3 kube_writers.py KUBECONFIG OPERATIONS WRITERS_PER_SERVER SERVER [SERVER...]

WRITERS_PER_SERVER threads per server share OPERATIONS: half creates, half updates (each
thread creates its ConfigMaps, then replaces each once through the same server). Prints one
JSON object:
  operations  creates and updates answered with success
  errors      [server, operation, error] of every failed call (none are retried)
  missing     per server, objects it does not list
  stale       per server, objects it lists with other data than their update wrote
"""
import json
import sys
import threading
import time

from kubernetes import client, config

KUBECONFIG = sys.argv[1]
OPERATIONS = int(sys.argv[2])
PER_SERVER = int(sys.argv[3])
SERVERS = sys.argv[4:]
NAMESPACE = "default"

lock = threading.Lock()
done = [0]
errors = []


def api_for(server):
    configuration = client.Configuration()
    config.load_kube_config(KUBECONFIG, client_configuration=configuration)
    configuration.host = server
    return client.CoreV1Api(client.ApiClient(configuration))


def writer(server, names):
    api = api_for(server)
    created = []
    for name in names:
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"step": "created"})
        try:
            api.create_namespaced_config_map(NAMESPACE, body)
            created.append(name)
            with lock:
                done[0] += 1
        except Exception as error:
            with lock:
                errors.append([server, "create " + name, str(error)[:200]])
    for name in created:
        try:
            current = api.read_namespaced_config_map(name, NAMESPACE)
            current.data = {"step": "updated", "by": server}
            api.replace_namespaced_config_map(name, NAMESPACE, current)
            with lock:
                done[0] += 1
        except Exception as error:
            with lock:
                errors.append([server, "update " + name, str(error)[:200]])


objects = OPERATIONS // 2
writers = PER_SERVER * len(SERVERS)
threads = []
expected = {}
for w in range(writers):
    server = SERVERS[w % len(SERVERS)]
    names = ["load-%03d-%05d" % (w, n) for n in range(w, objects, writers)]
    for name in names:
        expected[name] = server
    thread = threading.Thread(target=writer, args=(server, names))
    thread.start()
    threads.append(thread)
for thread in threads:
    thread.join()

missing = {}
stale = {}
for server in SERVERS:
    # A member may serve lists from its watch cache: it gets 15 s to catch up.
    deadline = time.time() + 15
    while True:
        items = api_for(server).list_namespaced_config_map(NAMESPACE).items
        seen = {item.metadata.name: item.data or {} for item in items if item.metadata.name.startswith("load-")}
        missing[server] = [name for name in expected if name not in seen][:20]
        stale[server] = [name for name, writer_server in expected.items()
                         if name in seen and seen[name] != {"step": "updated", "by": writer_server}][:20]
        if (not missing[server] and not stale[server]) or time.time() > deadline:
            break
        time.sleep(0.2)
print(json.dumps({"operations": done[0], "errors": errors[:50], "missing": missing, "stale": stale}))
