"""Owners, dependents and propagation policies against a running `skiff server`.

Usage: garbage_collection.py KUBECONFIG
Prints one line per check and exits non-zero at the first failure; "OK" at the end.
"""
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

from checks import check

config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
ns = "gc"


def wait(predicate, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def exists(read):
    try:
        read()
        return True
    except ApiException as error:
        if error.status == 404:
            return False
        raise


def config_map(name, owners=(), finalizers=None):
    refs = [client.V1OwnerReference(api_version=o.api_version, kind=o.kind, name=o.metadata.name, uid=o.metadata.uid,
                                    block_owner_deletion=block)
            for o, block in owners]
    return v1.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, owner_references=refs or None, finalizers=finalizers)))


def owner_with_dependents(name, count=3, block=False):
    owner = config_map(name)
    owner.api_version, owner.kind = "v1", "ConfigMap"
    dependents = [config_map("%s-dep-%d" % (name, i), [(owner, block)]) for i in range(count)]
    return owner, dependents


def cm_exists(name):
    return exists(lambda: v1.read_namespaced_config_map(name, ns))


v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))

# Background (the default): the owner goes at once, then its dependents.
owner, deps = owner_with_dependents("bg")
v1.delete_namespaced_config_map("bg", ns, body=client.V1DeleteOptions(propagation_policy="Background"))
check(not cm_exists("bg"), "background: the owner is gone at once")
check(wait(lambda: not any(cm_exists(d.metadata.name) for d in deps)), "background: the dependents are deleted by the collector")

# Orphan: the dependents stay, without their reference to the owner.
owner, deps = owner_with_dependents("orph")
v1.delete_namespaced_config_map("orph", ns, body=client.V1DeleteOptions(propagation_policy="Orphan"))
check(wait(lambda: not cm_exists("orph")), "orphan: the owner goes once its dependents are orphaned")
left = [v1.read_namespaced_config_map(d.metadata.name, ns) for d in deps]
check(all(not (c.metadata.owner_references or []) for c in left), "orphan: the dependents stay and lose the owner reference")
time.sleep(1)
check(all(cm_exists(d.metadata.name) for d in deps), "orphan: the dependents are not collected later")

# Foreground: the owner is held (deletionTimestamp, foregroundDeletion) until its blocking
# dependents are gone; a dependent held by its own finalizer holds the owner too.
owner, deps = owner_with_dependents("fg", block=True)
held = config_map("fg-held", [(owner, True)], finalizers=["example.com/hold"])
v1.delete_namespaced_config_map("fg", ns, body=client.V1DeleteOptions(propagation_policy="Foreground"))
marked = v1.read_namespaced_config_map("fg", ns)
check(marked.metadata.deletion_timestamp is not None and "foregroundDeletion" in (marked.metadata.finalizers or []),
      "foreground: the owner is marked with the foregroundDeletion finalizer")
check(wait(lambda: not any(cm_exists(d.metadata.name) for d in deps)), "foreground: the dependents are deleted first")
time.sleep(1)
check(cm_exists("fg"), "foreground: a dependent held by a finalizer (blockOwnerDeletion) holds the owner")
check(v1.read_namespaced_config_map("fg-held", ns).metadata.deletion_timestamp is not None, "foreground: that dependent is being deleted")
v1.patch_namespaced_config_map("fg-held", ns, {"metadata": {"finalizers": None}})
check(wait(lambda: not cm_exists("fg-held") and not cm_exists("fg")), "foreground: the owner goes after its last blocking dependent")

# A dependent with two owners loses only the reference to the one that is gone.
a, b = config_map("owner-a"), config_map("owner-b")
for o in (a, b):
    o.api_version, o.kind = "v1", "ConfigMap"
shared = config_map("shared", [(a, False), (b, False)])
v1.delete_namespaced_config_map("owner-a", ns)
check(wait(lambda: [r.name for r in (v1.read_namespaced_config_map("shared", ns).metadata.owner_references or [])] == ["owner-b"]),
      "two owners: the dangling reference is dropped, the dependent stays")
v1.delete_namespaced_config_map("owner-b", ns)
check(wait(lambda: not cm_exists("shared")), "two owners: collected when the last owner goes")

# Foreground deletion of one owner keeps a dependent that has another, valid owner: it only
# loses the reference to the owner being deleted, which then goes.
c, d = config_map("owner-c"), config_map("owner-d")
for o in (c, d):
    o.api_version, o.kind = "v1", "ConfigMap"
both = config_map("both", [(c, True), (d, False)])
v1.delete_namespaced_config_map("owner-c", ns, body=client.V1DeleteOptions(propagation_policy="Foreground"))
check(wait(lambda: not cm_exists("owner-c")), "foreground with a shared dependent: the owner goes")
check([r.name for r in (v1.read_namespaced_config_map("both", ns).metadata.owner_references or [])] == ["owner-d"],
      "foreground with a shared dependent: the dependent stays, owned by the other owner only")

# A dependency cycle does not block collection: c1 <- c2 <- c3 <- c1; deleting c1 takes all.
ring = [config_map("ring-%d" % i) for i in range(3)]
for i, item in enumerate(ring):
    owner = ring[(i + 2) % 3]
    v1.patch_namespaced_config_map(item.metadata.name, ns, {"metadata": {"ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": owner.metadata.name, "uid": owner.metadata.uid, "blockOwnerDeletion": True}]}})
v1.delete_namespaced_config_map("ring-0", ns)
check(wait(lambda: not any(cm_exists("ring-%d" % i) for i in range(3))), "a dependency cycle is collected whole")

# Across types: a Deployment owning a ReplicaSet owning Pods (as the controllers would set them).
deployment = apps.create_namespaced_deployment(ns, {
    "metadata": {"name": "web"},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
rs = apps.create_namespaced_replica_set(ns, {
    "metadata": {"name": "web-1", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                        "uid": deployment.metadata.uid, "controller": True, "blockOwnerDeletion": True}]},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
for i in range(3):
    v1.create_namespaced_pod(ns, {
        "metadata": {"name": "web-1-%d" % i, "labels": {"app": "web"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1",
                                          "uid": rs.metadata.uid, "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
apps.delete_namespaced_deployment("web", ns, body=client.V1DeleteOptions(propagation_policy="Foreground"))
check(wait(lambda: not exists(lambda: apps.read_namespaced_deployment("web", ns))), "foreground across types: the deployment goes")
check(not exists(lambda: apps.read_namespaced_replica_set("web-1", ns)) and not v1.list_namespaced_pod(ns).items,
      "foreground across types: its replica set and pods went first")
print("OK")
