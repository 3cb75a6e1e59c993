"""Admission webhooks against real HTTPS webhook servers this script starts (a test CA made
with openssl): a mutating webhook's JSONPatch applied; a validating webhook's denial with its
message; failurePolicy Ignore and Fail with the server down; a timeout; namespace and object
selectors and matchConditions; a webhook reached through a Service's EndpointSlice; DELETE
admission; dryRun with sideEffects None and Some; reinvocation; warnings; the AdmissionReview
sent; the webhook metrics.

Usage: admission_webhooks.py KUBECONFIG KUBECTL
Prints one line per check and exits non-zero at the first failure.
"""
import base64
import json
import socket
import subprocess
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler

from kubernetes import client, config

from checks import check, eventually, status_of
import webhook_server

warnings.filterwarnings("ignore")
kubeconfig, kubectl = sys.argv[1], sys.argv[2]
config.load_kube_config(kubeconfig)
core = client.CoreV1Api()
admission = client.AdmissionregistrationV1Api()
discovery = client.DiscoveryV1Api()
api = client.ApiClient()

work, ca_bundle, other_bundle = webhook_server.certificates(["IP:127.0.0.1", "DNS:localhost", "DNS:webhook.wh-svc.svc"])

# --- the webhook server: one behaviour per path, every review it gets recorded ---
received = []
lock = threading.Lock()


def patch_response(review, operations):
    return {"uid": review["request"]["uid"], "allowed": True, "patchType": "JSONPatch",
            "patch": base64.b64encode(json.dumps(operations).encode()).decode()}


def add_label(review, key, value):
    labels = (review["request"].get("object") or {}).get("metadata", {}).get("labels")
    if labels is None:
        return [{"op": "add", "path": "/metadata/labels", "value": {key: value}}]
    return [{"op": "add", "path": "/metadata/labels/" + key, "value": value}]


def behave(path, review):
    request = review["request"]
    uid = request["uid"]
    obj = request.get("object") or {}
    if path.startswith("/set-status"):
        return patch_response(review, [{"op": "add", "path": "/status", "value": {"loadBalancer": {"ingress": [{"ip": "10.9.9.9"}]}}}]
                              + add_label(review, "status-tried", "yes"))
    if path.startswith("/rename"):
        return patch_response(review, [{"op": "replace", "path": "/metadata/name", "value": "renamed"},
                                       {"op": "add", "path": "/metadata/uid", "value": "forged"}] + add_label(review, "renamed", "tried"))
    if path.startswith("/mutate"):
        return patch_response(review, add_label(review, "webhook-mutated", "true"))
    if path.startswith("/deny-forbidden-data"):
        if "forbidden" in (obj.get("data") or {}):
            return {"uid": uid, "allowed": False,
                    "status": {"code": 403, "reason": "Forbidden", "message": "the configmap contains forbidden data"}}
        return {"uid": uid, "allowed": True}
    if path.startswith("/deny"):
        return {"uid": uid, "allowed": False, "status": {"message": "denied by " + path}}
    if path.startswith("/slow"):
        time.sleep(4)
        return {"uid": uid, "allowed": True}
    if path.startswith("/warn"):
        return {"uid": uid, "allowed": True, "warnings": ["webhook says hi"], "auditAnnotations": {"seen": "yes"}}
    if path.startswith("/wrong-uid"):
        return {"uid": "not-" + uid, "allowed": True}
    return {"uid": uid, "allowed": True}


connections = []


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as webhook servers in Go answer: Skiff reuses its connections.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with lock:
            connections.append(self.client_address)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        review = json.loads(self.rfile.read(length))
        with lock:
            received.append((self.path, review))
        webhook_server.reply(self, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                    "response": behave(self.path.split("?")[0], review)})

    def log_message(self, *args):
        pass


server, port = webhook_server.serve(Handler, work)

# A server that accepts connections and never says a word (no TLS handshake).
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(16)
silent_port = silent.getsockname()[1]
held = []
threading.Thread(target=lambda: [held.append(silent.accept()) for _ in iter(int, 1)], daemon=True).start()

# A port nothing listens on: the webhook server is "down".
closed = socket.socket()
closed.bind(("127.0.0.1", 0))
down_port = closed.getsockname()[1]
closed.close()


def reviews(path_prefix, name=None):
    with lock:
        return [r for (p, r) in received if p.startswith(path_prefix)
                and (name is None or r["request"].get("name") == name)]


def hook(name, path, case, operations=("CREATE",), resources=("configmaps",), failure="Fail", timeout=None,
         side_effects="None", url_port=None, ca=None, service=None, extra=None):
    config_ = {"caBundle": ca or ca_bundle}
    if service:
        config_["service"] = {"namespace": "wh-svc", "name": "webhook", "path": path, "port": 443}
    else:
        config_["url"] = "https://127.0.0.1:%d%s" % (url_port or port, path)
    h = {"name": name, "clientConfig": config_, "admissionReviewVersions": ["v1"], "sideEffects": side_effects,
         "failurePolicy": failure,
         "rules": [{"operations": list(operations), "apiGroups": [""], "apiVersions": ["v1"], "resources": list(resources)}],
         "objectSelector": {"matchLabels": {"case": case}}}
    if timeout:
        h["timeoutSeconds"] = timeout
    h.update(extra or {})
    return h


def configuration(kind, name, webhooks):
    body = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": webhooks}
    if kind == "MutatingWebhookConfiguration":
        admission.create_mutating_webhook_configuration(body)
    else:
        admission.create_validating_webhook_configuration(body)


def cm(name, namespace, case, data=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"case": case}), data=data or {"k": "v"})


for ns, labels in [("wh-on", {"webhooks": "on"}), ("wh-off", {}), ("wh-svc", {})]:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns, labels=labels)))

# The Service the service-addressed webhook names: no selector, one EndpointSlice pointing
# at the webhook server (Skiff runs no kube-proxy: it dials a ready endpoint itself).
core.create_namespaced_service("wh-svc", {"metadata": {"name": "webhook"},
                                          "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 8443}]}})
discovery.create_namespaced_endpoint_slice("wh-svc", {
    "metadata": {"name": "webhook-1", "labels": {"kubernetes.io/service-name": "webhook"}},
    "addressType": "IPv4", "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
    "ports": [{"name": "https", "port": port, "protocol": "TCP"}]})

mutating = [
    hook("mutate.skiff.test", "/mutate", "mutate", extra={"namespaceSelector": {"matchLabels": {"webhooks": "on"}}}),
    hook("mutate-svc.skiff.test", "/mutate", "svc", service=True),
    hook("mutate-badca.skiff.test", "/mutate", "badca", ca=other_bundle),
    hook("rename.skiff.test", "/rename", "rename"),
    hook("set-status.skiff.test", "/set-status", "status", operations=("UPDATE",), resources=("services",)),
]
configuration("MutatingWebhookConfiguration", "b-mutating", mutating)
# Reinvocation: "a-" sorts first; it is called again once the later webhook has patched.
configuration("MutatingWebhookConfiguration", "a-reinvoked", [
    hook("count.skiff.test", "/count", "reinvoke", extra={"reinvocationPolicy": "IfNeeded"}),
    hook("count-once.skiff.test", "/count-once", "reinvoke"),
])
configuration("MutatingWebhookConfiguration", "c-reinvoke-mutator", [hook("mutate-late.skiff.test", "/mutate", "reinvoke")])
validating = [
    hook("deny.skiff.test", "/deny-forbidden-data", "deny"),
    hook("ignore.skiff.test", "/allow", "ignore", failure="Ignore", url_port=down_port),
    hook("fail.skiff.test", "/allow", "fail", failure="Fail", url_port=down_port),
    hook("slow.skiff.test", "/slow", "slow", timeout=1),
    hook("silent.skiff.test", "/allow", "silent", timeout=1, url_port=silent_port),
    hook("conditions.skiff.test", "/deny-conditions", "conditions",
         extra={"matchConditions": [{"name": "mc-prefix", "expression": "object.metadata.name.startsWith('mc-')"}]}),
    hook("delete.skiff.test", "/deny-delete", "keep", operations=("DELETE",)),
    hook("dry-none.skiff.test", "/allow-dry-none", "drynone", side_effects="None"),
    hook("dry-some.skiff.test", "/allow-dry-some", "drysome", side_effects="Some"),
    hook("warn.skiff.test", "/warn", "warn"),
    hook("wrong-uid.skiff.test", "/wrong-uid", "wronguid"),
]
configuration("ValidatingWebhookConfiguration", "validating", validating)

# Configurations take effect once this server's cache has them: wait for the first denial.
check(eventually(lambda: status_of(lambda: core.create_namespaced_config_map(
    "wh-off", cm("probe-%d" % time.time_ns(), "wh-off", "deny", {"forbidden": "x"})))[0] == 403, 20),
      "a new validating webhook takes effect")
check(eventually(lambda: core.create_namespaced_config_map("wh-on", cm("probe-%d" % time.time_ns(), "wh-on", "mutate"))
                 .metadata.labels.get("webhook-mutated") == "true", 20), "a new mutating webhook takes effect")

# 1. Mutating: the JSONPatch is applied; the namespace selector decides who is called.
made = core.create_namespaced_config_map("wh-on", cm("mutated", "wh-on", "mutate"))
check(made.metadata.labels == {"case": "mutate", "webhook-mutated": "true"}, "the mutating webhook's patch is in the answer")
stored = core.read_namespaced_config_map("mutated", "wh-on")
check(stored.metadata.labels.get("webhook-mutated") == "true", "and in the stored object")
plain = core.create_namespaced_config_map("wh-off", cm("not-mutated", "wh-off", "mutate"))
check("webhook-mutated" not in plain.metadata.labels, "a namespace outside the namespaceSelector is not sent to the webhook")
check(reviews("/mutate", "not-mutated") == [], "the webhook never saw it")

review = reviews("/mutate", "mutated")[-1]["request"]
check(review["operation"] == "CREATE" and review["namespace"] == "wh-on" and review["name"] == "mutated",
      "the AdmissionReview names the operation, namespace and name")
check(review["kind"] == {"group": "", "version": "v1", "kind": "ConfigMap"}
      and review["resource"] == {"group": "", "version": "v1", "resource": "configmaps"}
      and review["requestKind"] == review["kind"] and review["requestResource"] == review["resource"],
      "and the kind, resource, requestKind and requestResource")
check(review["userInfo"]["username"] != "" and "system:masters" in review["userInfo"]["groups"],
      "and the user (%s)" % review["userInfo"])
check(review["object"]["data"] == {"k": "v"} and review.get("oldObject") is None and review["dryRun"] is False,
      "and the object, no oldObject, dryRun false")
check(review["options"]["kind"] == "CreateOptions" and review["uid"], "and CreateOptions and a uid")

# Connections are kept alive between calls.
with lock:
    before = (len(connections), len(received))
for i in range(10):
    core.create_namespaced_config_map("wh-on", cm("kept-alive-%d" % i, "wh-on", "mutate"))
with lock:
    opened, calls = len(connections) - before[0], len(received) - before[1]
check(calls >= 10 and opened <= 2, "10 calls opened %d connections to the webhook server (kept alive)" % opened)

# 2. A validating webhook's denial, with its message and code.
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("denied", "wh-off", "deny", {"forbidden": "1"})))
check(code == 403 and status["message"] == 'admission webhook "deny.skiff.test" denied the request: the configmap contains forbidden data',
      "a validating webhook's denial is the client's error, with its message (%s %s)" % (code, status and status["message"]))
check(status_of(lambda: core.read_namespaced_config_map("denied", "wh-off"))[0] == 404, "and nothing was stored")
check(status_of(lambda: core.create_namespaced_config_map("wh-off", cm("allowed", "wh-off", "deny", {"fine": "1"})))[0] == 200,
      "what the webhook allows is created")
# An update is admitted too.
code, status = status_of(lambda: core.patch_namespaced_config_map("allowed", "wh-off", {"data": {"forbidden": "now"}}))
check(code == 200, "an update is not sent to a CREATE-only webhook")

# 3. failurePolicy with the webhook server down.
check(status_of(lambda: core.create_namespaced_config_map("wh-off", cm("ignored", "wh-off", "ignore")))[0] == 200,
      "failurePolicy Ignore: a webhook that cannot be reached is skipped")
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("failed", "wh-off", "fail")))
check(code == 500 and 'failed calling webhook "fail.skiff.test"' in status["message"]
      and "127.0.0.1:%d" % down_port in status["message"],
      "failurePolicy Fail: the request fails naming the webhook and its address (%s)" % (status and status["message"]))
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("badca", "wh-off", "badca")))
check(code == 500 and 'failed calling webhook "mutate-badca.skiff.test"' in status["message"],
      "a server whose certificate the caBundle did not sign is not trusted (%s)" % (status and status["message"]))
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("wronguid", "wh-off", "wronguid")))
check(code == 500 and "expected response.uid" in status["message"], "an answer for another request is refused")

# 4. A timeout.
started = time.time()
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("slow", "wh-off", "slow")))
elapsed = time.time() - started
check(code == 500 and "context deadline exceeded" in status["message"] and "timeout=1s" in status["message"],
      "a webhook slower than timeoutSeconds fails the request (%s)" % (status and status["message"]))
check(elapsed < 3.5, "after about its timeout of 1 s (%.2f s)" % elapsed)

started = time.time()
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("silent", "wh-off", "silent")))
elapsed = time.time() - started
check(code == 500 and 'failed calling webhook "silent.skiff.test"' in status["message"] and elapsed < 3.5,
      "a server that never finishes the TLS handshake fails the call within the timeout (%.2f s: %s)"
      % (elapsed, status and status["message"]))

# A webhook may not rename the object or forge what the server owns.
made = core.create_namespaced_config_map("wh-off", cm("kept-name", "wh-off", "rename"))
check(made.metadata.name == "kept-name" and made.metadata.uid != "forged" and made.metadata.labels.get("renamed") == "tried",
      "a mutating webhook's patch of name and uid is undone, the rest applied")

# A webhook's patch of the status on a main-resource update is undone, as the update's own would be.
core.create_namespaced_service("wh-off", {"metadata": {"name": "statused", "labels": {"case": "status"}},
                                          "spec": {"ports": [{"port": 80}]}})
updated = core.patch_namespaced_service("statused", "wh-off", {"metadata": {"annotations": {"touched": "yes"}}})
check(updated.metadata.labels.get("status-tried") == "yes" and not (updated.status.load_balancer and updated.status.load_balancer.ingress),
      "a mutating webhook cannot change the status through a main-resource update")

# 5. matchConditions.
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("mc-denied", "wh-off", "conditions")))
check(code == 400 and "denied by /deny-conditions" in status["message"], "a webhook whose matchConditions hold is called")
check(status_of(lambda: core.create_namespaced_config_map("wh-off", cm("other", "wh-off", "conditions")))[0] == 200,
      "one whose matchConditions do not hold is not")

# 6. A webhook reached through a Service's EndpointSlice.
made = core.create_namespaced_config_map("wh-off", cm("through-service", "wh-off", "svc"))
check(made.metadata.labels.get("webhook-mutated") == "true", "a webhook addressed by Service is reached through its EndpointSlice")

# 7. DELETE admission.
core.create_namespaced_config_map("wh-off", cm("kept", "wh-off", "keep"))
code, status = status_of(lambda: core.delete_namespaced_config_map("kept", "wh-off"))
check(code == 400 and "denied by /deny-delete" in status["message"], "a webhook for DELETE refuses a delete")
check(core.read_namespaced_config_map("kept", "wh-off").metadata.name == "kept", "and the object stays")
review = reviews("/deny-delete", "kept")[-1]["request"]
check(review["operation"] == "DELETE" and review.get("object") is None and review["oldObject"]["metadata"]["name"] == "kept"
      and review["options"]["kind"] == "DeleteOptions", "the DELETE review carries the old object and DeleteOptions")
code, _ = status_of(lambda: core.delete_collection_namespaced_config_map("wh-off", label_selector="case=keep"))
check(code == 400 and core.read_namespaced_config_map("kept", "wh-off"), "a collection delete is admitted object by object")

# 8. dryRun and sideEffects.
check(status_of(lambda: core.create_namespaced_config_map("wh-off", cm("dry-none", "wh-off", "drynone"), dry_run="All"))[0] == 200,
      "a dry run calls a webhook with sideEffects None")
check(reviews("/allow-dry-none", "dry-none")[-1]["request"]["dryRun"] is True, "which is told it is a dry run")
check(status_of(lambda: core.read_namespaced_config_map("dry-none", "wh-off"))[0] == 404, "and nothing is stored")
code, status = status_of(lambda: core.create_namespaced_config_map("wh-off", cm("dry-some", "wh-off", "drysome"), dry_run="All"))
check(code == 400 and 'admission webhook "dry-some.skiff.test" does not support dry run' in status["message"],
      "a dry run refuses a webhook with sideEffects Some")
check(reviews("/allow-dry-some") == [], "without calling it")
check(status_of(lambda: core.create_namespaced_config_map("wh-off", cm("dry-some", "wh-off", "drysome")))[0] == 200,
      "a real write calls it")

# 9. Reinvocation: IfNeeded runs again after a later webhook changed the object.
made = core.create_namespaced_config_map("wh-off", cm("reinvoked", "wh-off", "reinvoke"))
check(made.metadata.labels.get("webhook-mutated") == "true", "the later webhook's patch is applied")
check(len(reviews("/count?", "reinvoked")) == 2, "a webhook with reinvocationPolicy IfNeeded is called again (%d calls)"
      % len(reviews("/count?", "reinvoked")))
check(len(reviews("/count-once", "reinvoked")) == 1, "one without it is called once")
check(reviews("/count?", "reinvoked")[1]["request"]["object"]["metadata"]["labels"].get("webhook-mutated") == "true",
      "the second call sees the changed object")

# 10. Warnings reach the client (kubectl prints them).
result = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "-n", "wh-off", "create", "configmap", "warned",
                         "--from-literal=a=b"], capture_output=True, text=True)
check(result.returncode == 0, "kubectl create through no webhook works")
manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "warned2", "labels": {"case": "warn"}}})
result = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "-n", "wh-off", "create", "-f", "-"], input=manifest,
                        capture_output=True, text=True)
check(result.returncode == 0 and "Warning: webhook says hi" in result.stderr,
      "a webhook's warning reaches kubectl (%r)" % result.stderr.strip())

# 11. Metrics.
params = api.param_serialize(method="GET", resource_path="/metrics", auth_settings=["BearerToken"])
response = api.call_api(*params)
response.read()
metrics = response.data.decode()
check('apiserver_admission_webhook_request_total{name="deny.skiff.test",type="validating",operation="CREATE",code="403",rejected="true"}'
      in metrics, "/metrics counts the webhook's rejections")
check('apiserver_admission_webhook_fail_open_count{name="ignore.skiff.test",type="validating"}' in metrics,
      "and the calls that failed open")
check('apiserver_admission_webhook_admission_duration_seconds_bucket{name="mutate.skiff.test",type="admit"' in metrics,
      "and the mutating calls' latency")

# 12. Webhook configurations are never sent to webhooks (they could lock themselves in).
admission.delete_validating_webhook_configuration("validating")
check(eventually(lambda: status_of(lambda: core.delete_namespaced_config_map("kept", "wh-off"))[0] == 200, 20),
      "once the configuration is deleted, the delete goes through")
server.shutdown()
print("OK")
