"""The Node authorizer and NodeRestriction admission, through the Python client.

Usage: node_authorization.py ADMIN_KUBECONFIG NODE_A_KUBECONFIG

NODE_A_KUBECONFIG signs in as system:node:node-a (group system:nodes). A kubelet may read what
the pods bound to its node use, write its own Node, Lease and pods' status, and nothing else.
Prints OK at the end.
"""
import sys

from kubernetes import client, config
from kubernetes.client.rest import ApiException

admin_config, node_config = sys.argv[1:3]
admin = config.new_client_from_config(admin_config)
node = config.new_client_from_config(node_config)
core, node_core = client.CoreV1Api(admin), client.CoreV1Api(node)
node_coordination = client.CoordinationV1Api(node)
node_apps = client.AppsV1Api(node)
failures = []


def expect(allowed, what, call):
    try:
        call()
        ok = allowed
        got = "allowed"
    except ApiException as error:
        ok = (not allowed) and error.status == 403
        got = "%d %s" % (error.status, (error.body or "")[:300])
    if not ok:
        failures.append(what)
        print("FAIL: %s: expected %s, got %s" % (what, "allowed" if allowed else "403", got), flush=True)


def pod_spec(node_name, **refs):
    container = {"name": "c", "image": "busybox"}
    volumes = []
    if "secret" in refs:
        volumes.append({"name": "s", "secret": {"secretName": refs["secret"]}})
    if "config_map" in refs:
        container["envFrom"] = [{"configMapRef": {"name": refs["config_map"]}}]
    if "claim" in refs:
        volumes.append({"name": "v", "persistentVolumeClaim": {"claimName": refs["claim"]}})
    spec = {"containers": [container], "volumes": volumes, "nodeName": node_name}
    if "account" in refs:
        spec["serviceAccountName"] = refs["account"]
    return spec


# What the cluster holds: node-a's pod uses one of each; node-b's pod uses others.
for name in ("used", "unused"):
    core.create_namespaced_secret("default", {"metadata": {"name": "s-" + name}, "stringData": {"k": "v"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm-" + name}, "data": {"k": "v"}})
    core.create_persistent_volume({"metadata": {"name": "pv-" + name}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/" + name}}})
    core.create_namespaced_persistent_volume_claim("default", {"metadata": {"name": "claim-" + name}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeName": "pv-" + name}})
    core.create_namespaced_service_account("default", {"metadata": {"name": "sa-" + name}})
core.create_namespaced_pod("default", {"metadata": {"name": "on-a"}, "spec": pod_spec(
    "node-a", secret="s-used", config_map="cm-used", claim="claim-used", account="sa-used")})
core.create_namespaced_pod("default", {"metadata": {"name": "on-b"}, "spec": pod_spec(
    "node-b", secret="s-unused", config_map="cm-unused", claim="claim-unused", account="sa-unused")})
core.create_node({"metadata": {"name": "node-b"}})

# Its own Node: create, status, no restricted labels, no taint changes; not another's.
expect(True, "create its own node", lambda: node_core.create_node({"metadata": {"name": "node-a", "labels": {"zone": "z1"}}}))
expect(False, "create another node", lambda: node_core.create_node({"metadata": {"name": "node-c"}}))
expect(True, "get its own node", lambda: node_core.read_node("node-a"))
expect(False, "get another node", lambda: node_core.read_node("node-b"))
expect(False, "list every node", lambda: node_core.list_node())
expect(True, "list its own node by name", lambda: node_core.list_node(field_selector="metadata.name=node-a"))
expect(True, "patch its own status", lambda: node_core.patch_node_status("node-a", {"status": {"addresses": [
    {"type": "InternalIP", "address": "127.0.0.1"}]}}))
expect(False, "patch another's status", lambda: node_core.patch_node_status("node-b", {"status": {"phase": "Running"}}))
expect(True, "label its own node", lambda: node_core.patch_node("node-a", {"metadata": {"labels": {"zone": "z2"}}}))
expect(False, "set a node-restriction label", lambda: node_core.patch_node(
    "node-a", {"metadata": {"labels": {"node-restriction.kubernetes.io/pool": "gold"}}}))
expect(False, "change its taints", lambda: node_core.patch_node(
    "node-a", {"spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}}))
expect(False, "delete its node", lambda: node_core.delete_node("node-a"))

# What its pods use, and nothing else.
expect(True, "get a secret its pod mounts", lambda: node_core.read_namespaced_secret("s-used", "default"))
expect(False, "get another secret", lambda: node_core.read_namespaced_secret("s-unused", "default"))
expect(False, "list secrets", lambda: node_core.list_namespaced_secret("default"))
expect(True, "list its secret by name", lambda: node_core.list_namespaced_secret("default", field_selector="metadata.name=s-used"))
expect(False, "update a secret its pod mounts", lambda: node_core.patch_namespaced_secret("s-used", "default", {"data": {}}))
expect(True, "get a config map its pod uses", lambda: node_core.read_namespaced_config_map("cm-used", "default"))
expect(False, "get another config map", lambda: node_core.read_namespaced_config_map("cm-unused", "default"))
expect(True, "get its pod's claim", lambda: node_core.read_namespaced_persistent_volume_claim("claim-used", "default"))
expect(False, "get another claim", lambda: node_core.read_namespaced_persistent_volume_claim("claim-unused", "default"))
expect(True, "get its claim's volume", lambda: node_core.read_persistent_volume("pv-used"))
expect(False, "get another volume", lambda: node_core.read_persistent_volume("pv-unused"))
expect(True, "a token for its pod's service account", lambda: node_core.create_namespaced_service_account_token(
    "sa-used", "default", {"spec": {"audiences": ["api"]}}))
expect(False, "a token for another service account", lambda: node_core.create_namespaced_service_account_token(
    "sa-unused", "default", {"spec": {"audiences": ["api"]}}))

# Pods: its own, listed by spec.nodeName; mirror pods only; status of its own.
expect(True, "get its pod", lambda: node_core.read_namespaced_pod("on-a", "default"))
expect(False, "get another node's pod", lambda: node_core.read_namespaced_pod("on-b", "default"))
expect(True, "list its pods", lambda: node_core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-a"))
expect(False, "list every pod", lambda: node_core.list_pod_for_all_namespaces())
expect(False, "list another node's pods", lambda: node_core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-b"))
expect(True, "write its pod's status", lambda: node_core.patch_namespaced_pod_status("on-a", "default", {"status": {"phase": "Running"}}))
expect(False, "write another pod's status", lambda: node_core.patch_namespaced_pod_status("on-b", "default", {"status": {"phase": "Running"}}))
expect(False, "create a pod that is not a mirror pod", lambda: node_core.create_namespaced_pod(
    "default", {"metadata": {"name": "plain"}, "spec": pod_spec("node-a")}))
expect(False, "create a mirror pod for another node", lambda: node_core.create_namespaced_pod("default", {"metadata": {
    "name": "mirror-b", "annotations": {"kubernetes.io/config.mirror": "x"}}, "spec": pod_spec("node-b")}))
expect(True, "create its mirror pod", lambda: node_core.create_namespaced_pod("default", {"metadata": {
    "name": "mirror-a", "annotations": {"kubernetes.io/config.mirror": "x"}}, "spec": pod_spec("node-a")}))
expect(False, "delete another node's pod", lambda: node_core.delete_namespaced_pod("on-b", "default"))
expect(True, "delete its mirror pod", lambda: node_core.delete_namespaced_pod("mirror-a", "default"))

# Its CSINode (named in the body of a create) and no other.
node_storage = client.StorageV1Api(node)
csinode = lambda name: {"metadata": {"name": name}, "spec": {"drivers": []}}
expect(True, "create its CSINode", lambda: node_storage.create_csi_node(csinode("node-a")))
expect(False, "create another's CSINode", lambda: node_storage.create_csi_node(csinode("node-b")))
expect(True, "get its CSINode", lambda: node_storage.read_csi_node("node-a"))

# Its Lease, events; nothing of the workloads.
lease = {"metadata": {"name": "node-a"}, "spec": {"holderIdentity": "node-a", "leaseDurationSeconds": 40}}
expect(True, "create its lease", lambda: node_coordination.create_namespaced_lease("kube-node-lease", lease))
expect(True, "renew its lease", lambda: node_coordination.patch_namespaced_lease("node-a", "kube-node-lease", {"spec": {"leaseDurationSeconds": 40}}))
expect(False, "a lease elsewhere", lambda: node_coordination.create_namespaced_lease("default", lease))
expect(True, "create an event", lambda: node_core.create_namespaced_event("default", {
    "metadata": {"name": "e1"}, "involvedObject": {"kind": "Node", "name": "node-a"}, "reason": "Started", "message": "m"}))
expect(False, "list deployments", lambda: node_apps.list_namespaced_deployment("default"))
expect(False, "read the pods of a namespace", lambda: node_core.list_namespaced_pod("kube-system"))

if failures:
    print("%d failures" % len(failures))
    sys.exit(1)
print("OK")
