"""Custom resources through Python's `kubernetes` client: a CRD applied and established,
then custom objects created, listed (also as a Table with the printer columns), watched,
patched, applied server-side, scaled and given a status; schema violations are 422s naming
the field.

Usage: custom_resources.py KUBECONFIG
Prints one line per check and exits non-zero at the first failure.
"""
import json
import sys
import threading
import time
import warnings

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from checks import check, status_of

warnings.filterwarnings("ignore")
config.load_kube_config(sys.argv[1])
ext = client.ApiextensionsV1Api()
custom = client.CustomObjectsApi()
api = client.ApiClient()


def raw(method, path, query=None, headers=None, body=None):
    """A request the typed API has no method for (Table output, server-side apply)."""
    params = api.param_serialize(method=method, resource_path=path, query_params=query or [],
                                 header_params=headers or {}, body=body, auth_settings=["BearerToken"])
    response = api.call_api(*params)
    response.read()
    return json.loads(response.data)


crd = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {"group": "stable.example.com", "scope": "Namespaced",
             "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                                   "statusReplicasPath": ".status.replicas"}},
                           "additionalPrinterColumns": [{"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                                                        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}],
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {
                                   "cronSpec": {"type": "string", "pattern": "^(\\S+ ){4}\\S+$"},
                                   "image": {"type": "string"},
                                   "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1}},
                                   "required": ["cronSpec"],
                                   "x-kubernetes-validations": [{"rule": "!has(self.image) || self.image.contains(':')",
                                                                 "message": "image must carry a tag"}]},
                               "status": {"type": "object", "properties": {"replicas": {"type": "integer"},
                                                                          "phase": {"type": "string"}}}}}}}]}}
ext.create_custom_resource_definition(crd)
for _ in range(100):
    conditions = ext.read_custom_resource_definition("crontabs.stable.example.com").status.conditions or []
    if any(c.type == "Established" and c.status == "True" for c in conditions):
        break
    time.sleep(0.1)
check(any(c.type == "Established" and c.status == "True" for c in conditions), "the definition is Established")

group, version, plural, ns = "stable.example.com", "v1", "crontabs", "default"
events = []
started = threading.Event()


def watch_crontabs():
    w = watch.Watch()
    started.set()
    for event in w.stream(custom.list_namespaced_custom_object, group, version, ns, plural, timeout_seconds=10):
        events.append((event["type"], event["object"]["metadata"]["name"]))
        if len(events) >= 3:
            w.stop()


watcher = threading.Thread(target=watch_crontabs)
watcher.start()
started.wait()
time.sleep(0.3)

body = {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "nightly"},
        "spec": {"cronSpec": "0 3 * * *", "image": "backup:1.0"}}
created = custom.create_namespaced_custom_object(group, version, ns, plural, body)
check(created["spec"]["replicas"] == 1, "the default replicas is set")
custom.create_namespaced_custom_object(group, version, ns, plural, {
    "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "hourly"},
    "spec": {"cronSpec": "0 * * * *"}})
items = custom.list_namespaced_custom_object(group, version, ns, plural)["items"]
check(sorted(i["metadata"]["name"] for i in items) == ["hourly", "nightly"], "both objects are listed")

table = raw("GET", f"/apis/{group}/{version}/namespaces/{ns}/{plural}",
            headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
names = [c["name"] for c in table["columnDefinitions"]]
check(names == ["Name", "Spec", "Replicas"], f"the Table has the printer columns: {names}")
check(["nightly", "0 3 * * *", 1] in [r["cells"] for r in table["rows"]], "the Table rows carry the values")

custom.patch_namespaced_custom_object(group, version, ns, plural, "nightly", {"spec": {"image": "backup:2.0"}})
check(custom.get_namespaced_custom_object(group, version, ns, plural, "nightly")["spec"]["image"] == "backup:2.0",
      "a merge patch changes the object")
watcher.join(timeout=15)
check(events[:3] == [("ADDED", "nightly"), ("ADDED", "hourly"), ("MODIFIED", "nightly")], f"the watch saw every change: {events}")

applied = raw("PATCH", f"/apis/{group}/{version}/namespaces/{ns}/{plural}/applied",
              query=[("fieldManager", "python"), ("force", "true")],
              headers={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
              body={"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "applied"},
                    "spec": {"cronSpec": "*/5 * * * *", "replicas": 2}})
check(applied["metadata"]["managedFields"][0]["manager"] == "python", "server-side apply creates with managedFields")

scale = custom.patch_namespaced_custom_object_scale(group, version, ns, plural, "applied", {"spec": {"replicas": 5}})
check(scale["spec"]["replicas"] == 5, "the scale subresource sets replicas")
check(custom.get_namespaced_custom_object(group, version, ns, plural, "applied")["spec"]["replicas"] == 5, "and the object has them")
status = custom.patch_namespaced_custom_object_status(group, version, ns, plural, "applied",
                                                      {"status": {"replicas": 5, "phase": "Running"}})
check(status["status"]["phase"] == "Running", "the status subresource writes the status")


def refusal(spec):
    return status_of(lambda: custom.create_namespaced_custom_object(group, version, ns, plural, {
        "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "bad"}, "spec": spec}))


code, body = refusal({"cronSpec": "not a cron"})
check(code == 422 and body["details"]["causes"][0]["field"] == "spec.cronSpec", f"a bad pattern is a 422 naming the field: {body}")
code, body = refusal({"cronSpec": "* * * * *", "replicas": 11})
check(code == 422 and "spec.replicas" in body["message"], "a maximum is enforced")
code, body = refusal({"cronSpec": "* * * * *", "image": "untagged"})
check(code == 422 and "image must carry a tag" in body["message"], "a CEL rule is enforced: " + body["message"])
code, body = refusal({"image": "a:1"})
check(code == 422 and "spec.cronSpec: Required value" in body["message"], "a required field is enforced")

ext.delete_custom_resource_definition("crontabs.stable.example.com")
for _ in range(100):
    try:
        ext.read_custom_resource_definition("crontabs.stable.example.com")
        time.sleep(0.1)
    except ApiException as error:
        if error.status == 404:
            break
try:
    custom.list_namespaced_custom_object(group, version, ns, plural)
    code = 200
except ApiException as error:
    code = error.status
check(code == 404, "deleting the definition stops serving the resource")
print("OK")
