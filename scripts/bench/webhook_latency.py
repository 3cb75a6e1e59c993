"""The latency one mutating and one validating admission webhook add to a CREATE, on each API
server given, measured in the same run: sequential ConfigMap creates without webhooks, then
with a mutating webhook (a JSONPatch adding a label) and a validating one (allow) served by
this script over HTTPS (a test CA made with openssl, on 127.0.0.1: run it in the network
namespace of the servers). The servers' steps alternate, so that the machine's drift hits
them alike.

Usage: webhook_latency.py NAME=KUBECONFIG [NAME=KUBECONFIG ...] [--creates N] [--rounds R]
Prints, per server, create p50/p99 without and with the webhooks and the added p50/p99, then
each server's added p50 against the first one's.
"""
import base64
import json
import os
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler

from kubernetes import client, config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Tests/APIServerTests/python"))
import webhook_server  # noqa: E402  (the test CA and HTTPS server the webhook tests use)

warnings.filterwarnings("ignore")
arguments = sys.argv[1:]
creates, rounds = 300, 2
if "--creates" in arguments:
    i = arguments.index("--creates")
    creates = int(arguments[i + 1])
    del arguments[i:i + 2]
if "--rounds" in arguments:
    i = arguments.index("--rounds")
    rounds = int(arguments[i + 1])
    del arguments[i:i + 2]
servers = [a.split("=", 1) for a in arguments]
if not servers or any(len(s) != 2 for s in servers):
    sys.exit(__doc__)

work, ca_bundle, _ = webhook_server.certificates(["IP:127.0.0.1"])
patch = base64.b64encode(json.dumps([{"op": "add", "path": "/metadata/labels/webhook-mutated", "value": "true"}]).encode()).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Head and body are written apart: without this, Nagle's algorithm and delayed ACKs add
    # 40 ms to every call on a kept-alive connection.
    disable_nagle_algorithm = True

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        response = {"uid": review["request"]["uid"], "allowed": True}
        if self.path.startswith("/mutate"):
            response.update({"patchType": "JSONPatch", "patch": patch})
        webhook_server.reply(self, {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})

    def log_message(self, *args):
        pass


server, port = webhook_server.serve(Handler, work)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Target:
    def __init__(self, name, kubeconfig):
        self.name = name
        self.api = client.ApiClient(config.new_client_from_config(kubeconfig).configuration)
        self.core = client.CoreV1Api(self.api)
        self.admission = client.AdmissionregistrationV1Api(self.api)
        self.namespace = "webhook-bench-%d" % time.time_ns()
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
            name=self.namespace, labels={"webhook-bench": self.namespace})))
        self.base, self.hooked = [], []
        self.count = 0

    def creates(self, into):
        for _ in range(creates):
            self.count += 1
            body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-%d" % self.count, labels={"bench": "webhooks"}), data={"k": "v"})
            started = time.perf_counter()
            made = self.core.create_namespaced_config_map(self.namespace, body)
            into.append((time.perf_counter() - started) * 1000)
            if into is self.hooked and made.metadata.labels.get("webhook-mutated") != "true":
                sys.exit("%s: a create was not mutated" % self.name)

    def hook(self, path):
        return {"name": path.strip("/") + ".bench.skiff", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                "failurePolicy": "Fail", "timeoutSeconds": 10,
                "clientConfig": {"url": "https://127.0.0.1:%d%s" % (port, path), "caBundle": ca_bundle},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
                "namespaceSelector": {"matchLabels": {"webhook-bench": self.namespace}}}

    def register(self):
        meta = client.V1ObjectMeta(name=self.namespace)
        self.admission.create_mutating_webhook_configuration(
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
             "metadata": {"name": self.namespace}, "webhooks": [self.hook("/mutate")]})
        self.admission.create_validating_webhook_configuration(
            {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
             "metadata": {"name": self.namespace}, "webhooks": [self.hook("/validate")]})
        deadline = time.time() + 30
        while time.time() < deadline:
            self.count += 1
            made = self.core.create_namespaced_config_map(self.namespace, client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="probe-%d" % self.count, labels={"bench": "webhooks"})))
            if (made.metadata.labels or {}).get("webhook-mutated") == "true":
                return meta
            time.sleep(0.1)
        sys.exit("%s: the webhooks never took effect" % self.name)

    def clean(self):
        self.admission.delete_mutating_webhook_configuration(self.namespace)
        self.admission.delete_validating_webhook_configuration(self.namespace)
        self.core.delete_namespace(self.namespace)


targets = [Target(name, path) for name, path in servers]
for round_ in range(rounds):
    order = targets if round_ % 2 == 0 else list(reversed(targets))
    for target in order:
        target.creates(target.base)
for target in targets:
    target.register()
for round_ in range(rounds):
    order = targets if round_ % 2 == 0 else list(reversed(targets))
    for target in order:
        target.creates(target.hooked)

print("%-16s %10s %10s %12s %12s %11s %11s" % ("server", "base p50", "base p99", "hooked p50", "hooked p99", "added p50", "added p99"))
added = {}
for target in targets:
    b50, b99 = percentile(target.base, 0.5), percentile(target.base, 0.99)
    h50, h99 = percentile(target.hooked, 0.5), percentile(target.hooked, 0.99)
    added[target.name] = h50 - b50
    print("%-16s %8.2fms %8.2fms %10.2fms %10.2fms %9.2fms %9.2fms" % (target.name, b50, b99, h50, h99, h50 - b50, h99 - b99))
first = targets[0].name
for target in targets[1:]:
    if added[target.name] > 0:
        print("added p50, %s / %s: %.2f (below 1: %s adds less)" % (first, target.name, added[first] / added[target.name], first))
for target in targets:
    target.clean()
server.shutdown()
