"""A custom resource with two versions converted by a conversion webhook this script starts
(HTTPS, a test CA): objects written at one version are stored at the other and read, listed,
watched and applied at either; a webhook that cannot be reached fails reads at the other
version with kube-apiserver's error.

Usage: conversion_webhook.py KUBECONFIG
Prints one line per check and exits non-zero at the first failure.
"""
import json
import sys
import threading
import warnings
from http.server import BaseHTTPRequestHandler

from kubernetes import client, config, watch

from checks import check, eventually, status_of
import webhook_server

warnings.filterwarnings("ignore")
config.load_kube_config(sys.argv[1])
ext = client.ApiextensionsV1Api()
custom = client.CustomObjectsApi()
api = client.ApiClient()

work, ca_bundle, _ = webhook_server.certificates(["IP:127.0.0.1"])
reviews = []
lock = threading.Lock()


def convert(obj, desired):
    """v1 keeps `spec.size`; v2 keeps it as `spec.dimensions.size`."""
    out = json.loads(json.dumps(obj))
    spec = out.get("spec") or {}
    if desired.endswith("/v2") and "size" in spec:
        spec["dimensions"] = {"size": spec.pop("size")}
    elif desired.endswith("/v1") and "dimensions" in spec:
        spec["size"] = spec.pop("dimensions").get("size")
    out["spec"] = spec
    out["apiVersion"] = desired
    out.setdefault("metadata", {}).setdefault("labels", {})["converted-to"] = desired.split("/")[1]
    return out


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with lock:
            reviews.append(review)
        request = review["request"]
        answer = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
                  "response": {"uid": request["uid"], "result": {"status": "Success"},
                               "convertedObjects": [convert(o, request["desiredAPIVersion"]) for o in request["objects"]]}}
        webhook_server.reply(self, answer)

    def log_message(self, *args):
        pass


server, port = webhook_server.serve(Handler, work)

size_v1 = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}
size_v2 = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
    "dimensions": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}
ext.create_custom_resource_definition({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.conv.example.com"},
    "spec": {"group": "conv.example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": size_v1}},
                          {"name": "v2", "served": True, "storage": False, "schema": {"openAPIV3Schema": size_v2}}],
             "conversion": {"strategy": "Webhook", "webhook": {
                 "conversionReviewVersions": ["v1"],
                 "clientConfig": {"url": "https://127.0.0.1:%d/convert" % port, "caBundle": ca_bundle}}}}})


def established():
    crd = ext.read_custom_resource_definition("widgets.conv.example.com")
    return any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))


check(eventually(established, 20), "the two-version definition is established")
check(eventually(lambda: status_of(lambda: custom.list_namespaced_custom_object("conv.example.com", "v2", "default", "widgets"))[0] == 200, 20),
      "both versions are served")

made = custom.create_namespaced_custom_object("conv.example.com", "v2", "default", "widgets", {
    "apiVersion": "conv.example.com/v2", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"dimensions": {"size": 3}}})
check(made["apiVersion"] == "conv.example.com/v2" and made["spec"] == {"dimensions": {"size": 3}},
      "a create at v2 answers the object at v2 (%s)" % made["spec"])
with lock:
    desired = [r["request"]["desiredAPIVersion"] for r in reviews]
check("conv.example.com/v1" in desired, "the webhook was asked for the storage version v1 (%s)" % desired)
check(reviews[0]["apiVersion"] == "apiextensions.k8s.io/v1" and reviews[0]["kind"] == "ConversionReview"
      and reviews[0]["request"]["objects"][0]["apiVersion"] == "conv.example.com/v2",
      "a ConversionReview v1 carries the object as written")

v1 = custom.get_namespaced_custom_object("conv.example.com", "v1", "default", "widgets", "w1")
check(v1["apiVersion"] == "conv.example.com/v1" and v1["spec"] == {"size": 3}, "a get at v1 reads the stored form (%s)" % v1["spec"])
v2 = custom.get_namespaced_custom_object("conv.example.com", "v2", "default", "widgets", "w1")
check(v2["spec"] == {"dimensions": {"size": 3}} and v2["metadata"]["labels"].get("converted-to") == "v2",
      "a get at v2 converts through the webhook (labels it may change are kept)")
check(v2["metadata"]["uid"] == v1["metadata"]["uid"] and v2["metadata"]["resourceVersion"] == v1["metadata"]["resourceVersion"],
      "and the rest of the metadata is the stored object's")

custom.create_namespaced_custom_object("conv.example.com", "v1", "default", "widgets", {
    "apiVersion": "conv.example.com/v1", "kind": "Widget", "metadata": {"name": "w2"}, "spec": {"size": 7}})
items = custom.list_namespaced_custom_object("conv.example.com", "v2", "default", "widgets")["items"]
check(sorted((i["metadata"]["name"], i["spec"]["dimensions"]["size"], i["apiVersion"]) for i in items)
      == [("w1", 3, "conv.example.com/v2"), ("w2", 7, "conv.example.com/v2")], "a list at v2 converts every item")

# A watch at v2 sees a change written at v1, converted.
events = []


def watch_v2():
    w = watch.Watch()
    for event in w.stream(custom.list_namespaced_custom_object, "conv.example.com", "v2", "default", "widgets",
                          resource_version=items[0]["metadata"]["resourceVersion"], timeout_seconds=20):
        events.append(event)
        if event["object"]["metadata"]["name"] == "w2" and event["type"] == "MODIFIED":
            w.stop()


watcher = threading.Thread(target=watch_v2, daemon=True)
watcher.start()
# The watch starts at the list's resourceVersion: the patch is seen whenever the watch opens.
custom.patch_namespaced_custom_object("conv.example.com", "v1", "default", "widgets", "w2", {"spec": {"size": 8}})
watcher.join(25)
modified = [e for e in events if e["type"] == "MODIFIED" and e["object"]["metadata"]["name"] == "w2"]
check(modified and modified[-1]["object"]["spec"] == {"dimensions": {"size": 8}}
      and modified[-1]["object"]["apiVersion"] == "conv.example.com/v2", "a watch at v2 gets the change converted")

# Server-side apply at v2.
params = api.param_serialize(method="PATCH", resource_path="/apis/conv.example.com/v2/namespaces/default/widgets/w1",
                             query_params=[("fieldManager", "conversion-test"), ("force", "true")],
                             header_params={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
                             body={"apiVersion": "conv.example.com/v2", "kind": "Widget", "metadata": {"name": "w1"},
                                   "spec": {"dimensions": {"size": 5}}}, auth_settings=["BearerToken"])
response = api.call_api(*params)
response.read()
applied = json.loads(response.data)
check(response.status == 200 and applied["spec"] == {"dimensions": {"size": 5}}, "an apply at v2 answers at v2 (%s %s)" % (response.status, applied))
check(custom.get_namespaced_custom_object("conv.example.com", "v1", "default", "widgets", "w1")["spec"] == {"size": 5},
      "and is stored converted")

# A patch at v2 converts the stored object once and the result once (not at every step).
with lock:
    before = len(reviews)
custom.patch_namespaced_custom_object("conv.example.com", "v2", "default", "widgets", "w1",
                                      {"metadata": {"annotations": {"patched": "yes"}}})
with lock:
    calls = len(reviews) - before
check(calls == 2, "a patch at v2 makes 2 conversion calls (%d)" % calls)

# A delete that waits for a finalizer answers the marked object at v2.
custom.create_namespaced_custom_object("conv.example.com", "v2", "default", "widgets", {
    "apiVersion": "conv.example.com/v2", "kind": "Widget",
    "metadata": {"name": "w3", "finalizers": ["example.com/hold"]}, "spec": {"dimensions": {"size": 1}}})
marked = custom.delete_namespaced_custom_object("conv.example.com", "v2", "default", "widgets", "w3")
check(marked.get("apiVersion") == "conv.example.com/v2" and marked["spec"] == {"dimensions": {"size": 1}}
      and marked["metadata"].get("deletionTimestamp"), "a delete held by a finalizer answers the marked object at v2")
custom.patch_namespaced_custom_object("conv.example.com", "v2", "default", "widgets", "w3", {"metadata": {"finalizers": None}})
check(status_of(lambda: custom.get_namespaced_custom_object("conv.example.com", "v1", "default", "widgets", "w3"))[0] == 404,
      "and goes once the finalizer is removed")

# A webhook that cannot be reached: the other version cannot be read, the stored one can.
server.shutdown()
server.server_close()
code, status = status_of(lambda: custom.get_namespaced_custom_object("conv.example.com", "v2", "default", "widgets", "w1"))
check(code == 500 and "conversion webhook for conv.example.com/v2, Kind=Widget failed" in status["message"],
      "with the webhook down a read at v2 is a 500 naming it (%s)" % (status and status["message"]))
check(status_of(lambda: custom.get_namespaced_custom_object("conv.example.com", "v1", "default", "widgets", "w1"))[0] == 200,
      "a read at the stored version needs no webhook")
print("OK")
