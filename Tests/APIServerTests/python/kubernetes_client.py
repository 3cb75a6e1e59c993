"""Drives a running `skiff server` with Python's `kubernetes` client and raw HTTPS requests.

Usage: kubernetes_client.py KUBECONFIG SERVER_URL CA_FILE ETCD_ENDPOINT
Prints one line per check and exits non-zero at the first failure.
"""
import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import warnings

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

warnings.filterwarnings("ignore")
kubeconfig, url, ca_file, etcd = sys.argv[1:5]
config.load_kube_config(kubeconfig)
v1 = client.CoreV1Api()


ns = "py"
v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
# The namespace's root CA ConfigMap and default ServiceAccount come from a control loop;
# wait for them so that they are not among the changes the checks below expect.
import time

from checks import check, status_of
deadline = time.time() + 30
while time.time() < deadline:
    names = [c.metadata.name for c in v1.list_namespaced_config_map(ns).items]
    if "kube-root-ca.crt" in names and v1.list_namespaced_service_account(ns).items:
        break
    time.sleep(0.2)
check("kube-root-ca.crt" in names, "the namespace gets its kube-root-ca.crt ConfigMap")

# List, then watch from the list's resourceVersion: only later changes arrive, in order.
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="first"), data={"n": "1"}))
listed = v1.list_namespaced_config_map(ns)
check([c.metadata.name for c in listed.items] == ["first", "kube-root-ca.crt"], "list returns the config maps in name order")
resume_from = listed.metadata.resource_version
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="second")))
first = v1.read_namespaced_config_map("first", ns)
first.data = {"n": "2"}
v1.replace_namespaced_config_map("first", ns, first)
v1.delete_namespaced_config_map("second", ns)
events = []
stream = watch.Watch()
for event in stream.stream(v1.list_namespaced_config_map, ns, resource_version=resume_from, timeout_seconds=10):
    events.append((event["type"], event["object"].metadata.name))
    if len(events) == 3:
        stream.stop()
check(events == [("ADDED", "second"), ("MODIFIED", "first"), ("DELETED", "second")],
      "watch resumed at the list's resourceVersion sees the later changes in order: %s" % events)

# A label-selected watch reports an object leaving the selection as DELETED.
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="tagged", labels={"tier": "a"})))
rv = v1.list_namespaced_config_map(ns, label_selector="tier=a").metadata.resource_version
tagged = v1.read_namespaced_config_map("tagged", ns)
tagged.metadata.labels = {"tier": "b"}
v1.replace_namespaced_config_map("tagged", ns, tagged)
events = []
for event in stream.stream(v1.list_namespaced_config_map, ns, label_selector="tier=a", resource_version=rv, timeout_seconds=10):
    events.append((event["type"], event["object"].metadata.name))
    stream.stop()
check(events == [("DELETED", "tagged")], "an object moving out of a watch's selector is DELETED: %s" % events)

# Optimistic concurrency: a stale resourceVersion is 409 Conflict.
stale = v1.read_namespaced_config_map("first", ns)
fresh = v1.read_namespaced_config_map("first", ns)
fresh.data = {"n": "3"}
v1.replace_namespaced_config_map("first", ns, fresh)
stale.data = {"n": "4"}
code, body = status_of(lambda: v1.replace_namespaced_config_map("first", ns, stale))
check(code == 409 and body["reason"] == "Conflict" and body["kind"] == "Status", "stale update is a 409 Conflict Status")
code, body = status_of(lambda: v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="first"))))
check(code == 409 and body["reason"] == "AlreadyExists", "duplicate create is 409 AlreadyExists")

# A missing object is a 404 Status naming it.
code, body = status_of(lambda: v1.read_namespaced_config_map("missing", ns))
check(code == 404 and body["reason"] == "NotFound" and body["details"] == {"name": "missing", "kind": "configmaps"},
      "missing object is a 404 NotFound Status with details")
code, body = status_of(lambda: v1.replace_namespaced_config_map("missing", ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="missing"))))
check(code == 404, "update of a missing object is 404")
code, body = status_of(lambda: v1.create_namespaced_config_map("nowhere", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x"))))
check(code == 404 and "namespaces \"nowhere\" not found" in body["message"], "create in a missing namespace is 404")

# An invalid name is a 422 naming the field.
code, body = status_of(lambda: v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Bad_Name"))))
check(code == 422 and body["reason"] == "Invalid" and body["details"]["causes"][0]["field"] == "metadata.name",
      "invalid name is a 422 Invalid Status naming metadata.name")
code, body = status_of(lambda: v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="ok", labels={"bad key!": "v"}))))
check(code == 422 and body["details"]["causes"][0]["field"] == "metadata.labels", "invalid label key is a 422")

# Paging with limit/continue, and a continue token that outlives compaction is 410 Expired.
for i in range(5):
    v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="p%d" % i, labels={"page": "yes"})))
page = v1.list_namespaced_config_map(ns, label_selector="page=yes", limit=2)
check(len(page.items) == 2 and page.metadata._continue and page.metadata.remaining_item_count is None,
      "a selected page of 2 has a continue token")
names = [c.metadata.name for c in page.items]
token = page.metadata._continue
while token:
    page = v1.list_namespaced_config_map(ns, label_selector="page=yes", limit=2, _continue=token)
    names += [c.metadata.name for c in page.items]
    token = page.metadata._continue
check(names == ["p0", "p1", "p2", "p3", "p4"], "pages together hold every object once: %s" % names)
plain = v1.list_namespaced_config_map(ns, limit=3)
check(plain.metadata.remaining_item_count == len(v1.list_namespaced_config_map(ns).items) - 3, "remainingItemCount counts the rest")
old_token = plain.metadata._continue
old_rv = plain.metadata.resource_version
# Two more changes, so that the compaction covers the revision after old_rv (a watch from
# old_rv starts there).
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="newer")))
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="newest")))
current = v1.list_namespaced_config_map(ns).metadata.resource_version
subprocess.run(["etcdctl", "--endpoints=" + etcd, "compaction", current], check=True, capture_output=True,
               env=dict(os.environ, ETCDCTL_API="3"))
code, body = status_of(lambda: v1.list_namespaced_config_map(ns, limit=3, _continue=old_token))
check(code == 410 and body["reason"] == "Expired", "a continue token older than the compaction is 410 Expired")
events = []
try:
    for event in stream.stream(v1.list_namespaced_config_map, ns, resource_version=old_rv, timeout_seconds=5):
        events.append(event["type"])
except ApiException as error:
    events.append(error.status)
check(events == [410], "a watch from a compacted resourceVersion gets 410: %s" % events)

# resourceVersionMatch=Exact reads the past; deletecollection removes what the selector picks.
before_change = v1.list_namespaced_config_map(ns, label_selector="page=yes").metadata.resource_version
v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="p5", labels={"page": "yes"})))
past = v1.list_namespaced_config_map(ns, label_selector="page=yes", resource_version=before_change, resource_version_match="Exact")
check([c.metadata.name for c in past.items] == ["p0", "p1", "p2", "p3", "p4"], "an Exact list shows the objects as they were")
v1.delete_collection_namespaced_config_map(ns, label_selector="page=yes")
left = [c.metadata.name for c in v1.list_namespaced_config_map(ns).items]
check(not any(n.startswith("p") and n[1:].isdigit() for n in left) and "first" in left,
      "deletecollection removes exactly the selected objects: %s" % left)

# Status and scale subresources.
apps = client.AppsV1Api()
deployment = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="web"),
    spec=client.V1DeploymentSpec(
        replicas=2, selector=client.V1LabelSelector(match_labels={"app": "web"}),
        template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "web"}),
                                          spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]))))
created = apps.create_namespaced_deployment(ns, deployment)
check(created.metadata.generation == 1 and created.status.replicas is None, "a new deployment has generation 1 and no status")
created.status = client.V1DeploymentStatus(replicas=2, ready_replicas=1)
created.spec.replicas = 9
updated = apps.replace_namespaced_deployment_status("web", ns, created)
check(updated.status.ready_replicas == 1 and updated.spec.replicas == 2 and updated.metadata.generation == 1,
      "a status update changes only the status")
updated.status.ready_replicas = 0
updated.spec.replicas = 3
updated = apps.replace_namespaced_deployment("web", ns, updated)
check(updated.status.ready_replicas == 1 and updated.spec.replicas == 3 and updated.metadata.generation == 2,
      "a main-resource update keeps the status and bumps the generation")
scale = apps.read_namespaced_deployment_scale("web", ns)
check(scale.spec.replicas == 3 and scale.status.selector == "app=web", "the scale subresource reads replicas and selector")
scale.spec.replicas = 5
apps.replace_namespaced_deployment_scale("web", ns, scale)
check(apps.read_namespaced_deployment("web", ns).spec.replicas == 5, "writing the scale sets spec.replicas")

# Service addresses: unique cluster IPs and node ports under concurrent creates, a taken IP
# refused, a deleted Service's IP free again, the kubernetes Service at the range's first IP.
from concurrent.futures import ThreadPoolExecutor


def make_service(i):
    spec = client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)], type="NodePort" if i % 2 else "ClusterIP")
    return v1.create_namespaced_service(ns, client.V1Service(metadata=client.V1ObjectMeta(name="svc-%d" % i), spec=spec))


with ThreadPoolExecutor(max_workers=50) as pool:
    services = list(pool.map(make_service, range(50)))
ips = [s.spec.cluster_ip for s in services]
node_ports = [s.spec.ports[0].node_port for s in services if s.spec.type == "NodePort"]
check(len(set(ips)) == 50 and all(ip.startswith("10.") for ip in ips), "50 concurrent creates get 50 distinct cluster IPs")
check(len(set(node_ports)) == 25 and all(30000 <= p <= 32767 for p in node_ports), "25 NodePort services get distinct node ports")
kubernetes_service = v1.read_namespaced_service("kubernetes", "default")
check(kubernetes_service.spec.cluster_ip == "10.96.0.1" and kubernetes_service.spec.ports[0].port == 443, "the kubernetes Service is 10.96.0.1:443")
taken = ips[0]
code, body = status_of(lambda: v1.create_namespaced_service(ns, client.V1Service(
    metadata=client.V1ObjectMeta(name="dup-ip"), spec=client.V1ServiceSpec(cluster_ip=taken, ports=[client.V1ServicePort(port=80)]))))
check(code == 422 and "provided IP is already allocated" in body["message"], "a taken cluster IP is a 422")
v1.delete_namespaced_service("svc-0", ns)
again = v1.create_namespaced_service(ns, client.V1Service(
    metadata=client.V1ObjectMeta(name="reuse"), spec=client.V1ServiceSpec(cluster_ip=taken, ports=[client.V1ServicePort(port=80)])))
check(again.spec.cluster_ip == taken, "a deleted Service's cluster IP can be taken again")

# Raw HTTPS: anonymous access, body limit, malformed bodies.
context = ssl.create_default_context(cafile=ca_file)


def raw(path, method="GET", body=None, headers=None, tls=context):
    request = urllib.request.Request(url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, context=tls) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


code, body = raw("/healthz")
check(code == 200 and body == b"ok", "anonymous /healthz is 200 ok")
code, body = raw("/version")
check(code == 200 and json.loads(body)["gitVersion"].startswith("v1.34."), "anonymous /version is 200")
code, body = raw("/api/v1/namespaces")
check(code == 401 and json.loads(body)["reason"] == "Unauthorized", "anonymous list is a 401 Status")
code, body = raw("/api/v1/namespaces", headers={"Authorization": "Bearer nobody"})
check(code == 401, "an unknown bearer token is 401")

admin = ssl.create_default_context(cafile=ca_file)
cfg = client.Configuration.get_default_copy()
admin.load_cert_chain(cfg.cert_file, cfg.key_file)


def authed(path, method="GET", body=None, content_type="application/json"):
    return raw(path, method, body, {"Content-Type": content_type}, tls=admin)


code, body = authed("/api")
check(code == 200 and json.loads(body)["serverAddressByClientCIDRs"][0]["serverAddress"].endswith(":" + url.rsplit(":", 1)[1]),
      "/api names the port the server listens on")
big = json.dumps({"metadata": {"name": "big"}, "data": {"x": "a" * (4 * 1024 * 1024)}}).encode()
code, body = authed("/api/v1/namespaces/%s/configmaps" % ns, "POST", big)
check(code == 413 and json.loads(body)["reason"] == "RequestEntityTooLarge", "a 4 MiB body is a 413 Status")
code, body = authed("/api/v1/namespaces/%s/configmaps" % ns, "POST", b"{not json")
check(code == 400 and json.loads(body)["kind"] == "Status", "malformed JSON is a 400 Status")
code, body = authed("/api/v1/namespaces/%s/configmaps" % ns, "POST", b'{"kind":"Secret","metadata":{"name":"x"}}')
check(code == 400 and "does not match the expected kind" in json.loads(body)["message"], "a mismatched kind is a 400")
code, body = authed("/api/v1/namespaces/%s/configmaps?fieldValidation=Strict" % ns, "POST",
                    b'{"metadata":{"name":"twice","name":"twice"},"data":{}}')
check(code == 400 and 'duplicate field \\"metadata.name\\"' in body.decode(), "a duplicate field with fieldValidation=Strict is 400: %s" % body[:200])
code, body = authed("/api/v1/namespaces/%s/configmaps/first" % ns)
check(code == 200 and json.loads(body)["data"] == {"n": "3"}, "stored data is intact after the bad requests")
code, body = authed("/api/v1/namespaces/%s/configmaps?labelSelector=a+in+(b" % ns)
check(code == 400, "a malformed label selector is 400")
code, body = authed("/api/v1/namespaces/%s/pods?fieldSelector=spec.bogus%%3Dx" % ns)
check(code == 400 and "field label not supported" in json.loads(body)["message"], "an unsupported field selector is 400")
code, body = authed("/api/v1/namespaces/%s/configmaps?dryRun=All" % ns, "POST", b'{"metadata":{"name":"dry"}}')
check(code == 201, "dryRun create answers 201")
code, body = authed("/api/v1/namespaces/%s/configmaps/dry" % ns)
check(code == 404, "a dry-run create stores nothing")
# sendInitialEvents: the current objects as ADDED, then the initial-events-end bookmark.
request = urllib.request.Request(url + "/api/v1/namespaces/%s/configmaps?watch=1&sendInitialEvents=true"
                                 "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=5" % ns)
added, bookmark = 0, None
with urllib.request.urlopen(request, context=admin) as response:
    for line in response:
        event = json.loads(line)
        if event["type"] == "ADDED":
            added += 1
        elif event["type"] == "BOOKMARK":
            bookmark = event["object"]
            break
expected = len(v1.list_namespaced_config_map(ns).items)
check(added == expected and bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"},
      "sendInitialEvents sends %d ADDED then the initial-events-end bookmark" % expected)
request = urllib.request.Request(url + "/api/v1/namespaces/%s/configmaps?watch=1&sendInitialEvents=true" % ns)
try:
    urllib.request.urlopen(request, context=admin)
    code = 200
except urllib.error.HTTPError as error:
    code = error.code
check(code == 422, "sendInitialEvents without resourceVersionMatch=NotOlderThan is refused")

# YAML bodies: a create as application/yaml, a server-side apply as apply-patch+yaml.
code, body = authed("/api/v1/namespaces/%s/configmaps" % ns, "POST",
                    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  on: 'yes'\n", "application/yaml")
check(code == 201 and json.loads(body)["data"] == {"on": "yes"}, "a YAML create is read as YAML")
code, body = authed("/api/v1/namespaces/%s/configmaps/applied?fieldManager=py" % ns, "PATCH",
                    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n", "application/apply-patch+yaml")
managers = [m["manager"] + "/" + m["operation"] for m in json.loads(body)["metadata"]["managedFields"]]
check(code == 201 and managers == ["py/Apply"], "a YAML apply creates the object owned by its manager")
code, body = authed("/api/v1/namespaces/%s/configmaps/applied" % ns, "PATCH", b"data: {k: v}\n", "application/apply-patch+yaml")
check(code == 422 and "fieldManager" in body.decode(), "apply without a fieldManager is a 422")

code, body = authed("/metrics")
check(code == 200 and b'apiserver_request_total{verb="create",resource="configmaps",code="201"}' in body, "metrics count requests")
check(b'skiff_storage_duration_seconds_count{operation="create"}' in body, "metrics time storage operations")

review = client.AuthenticationV1Api().create_token_review(client.V1TokenReview(spec=client.V1TokenReviewSpec(token="nobody")))
check(review.status.authenticated is False, "a TokenReview of an unknown token is not authenticated")
access = client.AuthorizationV1Api().create_self_subject_access_review(client.V1SelfSubjectAccessReview(
    spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(verb="get", resource="pods", namespace=ns))))
check(access.status.allowed is True, "a SelfSubjectAccessReview answers (AlwaysAllow until RBAC)")
print("OK")
