"""API aggregation against a real aggregated API server this script starts (HTTPS with a test
CA made by openssl, requiring the front proxy's client certificate from the CA Skiff publishes):
the published trust ConfigMap; local APIServices; an APIService reached through a Service's
EndpointSlice becoming Available; requests proxied with the caller's identity in X-Remote-*
headers and without its credentials; RBAC checked before proxying; legacy and aggregated
discovery and `kubectl api-resources`; request metrics; availability lost when the server, its
endpoints or its Service go; validation.

Usage: aggregated_api.py KUBECONFIG KUBECTL
Prints one line per check and exits non-zero at the first failure.
"""
import json
import os
import subprocess
import sys
import threading
import warnings
from http.server import BaseHTTPRequestHandler

from kubernetes import client, config

from checks import check, eventually, status_of
import webhook_server

warnings.filterwarnings("ignore")
kubeconfig, kubectl = sys.argv[1], sys.argv[2]
config.load_kube_config(kubeconfig)
core = client.CoreV1Api()
rbac = client.RbacAuthorizationV1Api()
discovery_api = client.DiscoveryV1Api()
registration = client.ApiregistrationV1Api()
api = client.ApiClient()

GROUP, VERSION = "wardle.example.com", "v1alpha1"
NAME = VERSION + "." + GROUP
NS = "agg-test"


def run_kubectl(*args, token=None):
    command = [kubectl, "--kubeconfig", token_kubeconfig(token) if token else kubeconfig, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def token_kubeconfig(token):
    """A kubeconfig for the same server with `token` as the only credential."""
    admin = json.loads(subprocess.run([kubectl, "--kubeconfig", kubeconfig, "config", "view", "--raw", "-o", "json"],
                                      capture_output=True, text=True, check=True).stdout)
    cluster = admin["clusters"][0]["cluster"]
    path = os.path.join(work, "token.kubeconfig")
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "c", "cluster": cluster}],
                   "users": [{"name": "u", "user": {"token": token}}],
                   "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}], "current-context": "c"}, f)
    return path


def raw(path, headers=None):
    """GET `path` as the admin; the status, the body and the headers."""
    params = api.param_serialize(method="GET", resource_path=path, header_params=headers or {"Accept": "application/json"},
                                 auth_settings=["BearerToken"])
    response = api.call_api(*params)
    response.read()
    return response.status, response.data, response.getheaders()


# --- the published trust ---
trust = core.read_namespaced_config_map("extension-apiserver-authentication", "kube-system").data
check(json.loads(trust["requestheader-allowed-names"]) == ["front-proxy-client"], "the front proxy's client name is published")
check(json.loads(trust["requestheader-username-headers"]) == ["X-Remote-User"]
      and json.loads(trust["requestheader-group-headers"]) == ["X-Remote-Group"]
      and json.loads(trust["requestheader-extra-headers-prefix"]) == ["X-Remote-Extra-"]
      and json.loads(trust["requestheader-uid-headers"]) == ["X-Remote-Uid"], "the identity headers are published")
check(trust["requestheader-client-ca-file"].count("BEGIN CERTIFICATE") == 1
      and trust["client-ca-file"].count("BEGIN CERTIFICATE") == 1
      and trust["requestheader-client-ca-file"] != trust["client-ca-file"], "the front proxy CA and the client CA are published")
reader = rbac.read_namespaced_role("extension-apiserver-authentication-reader", "kube-system")
check(reader.rules[0].resource_names == ["extension-apiserver-authentication"], "the trust reader role exists")

# --- local APIServices ---
def local_available():
    try:
        apps = registration.read_api_service("v1.apps")
    except client.exceptions.ApiException:
        return False
    conditions = {c.type: c for c in (apps.status.conditions or [])} if apps.status else {}
    return "Available" in conditions and conditions["Available"].status == "True" and conditions["Available"].reason == "Local"


check(eventually(local_available, 30), "v1.apps is a local APIService, Available (Local)")
check(registration.read_api_service("v1.").metadata.labels.get("kube-aggregator.kubernetes.io/automanaged") == "onstart",
      "the core group's APIService is automanaged onstart")
table = run_kubectl("get", "apiservices", "v1.apps")
check(table.returncode == 0 and "Local" in table.stdout and "True" in table.stdout, "kubectl shows v1.apps as Local, True: " + table.stdout)

# A custom resource's group version gets an APIService (automanaged "true") and loses it with it.
extensions = client.ApiextensionsV1Api()
extensions.create_custom_resource_definition({
    "metadata": {"name": "gadgets.aggtest.example.com"},
    "spec": {"group": "aggtest.example.com", "scope": "Namespaced",
             "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}})


def crd_api_service():
    try:
        return registration.read_api_service("v1.aggtest.example.com")
    except client.exceptions.ApiException:
        return None


check(eventually(lambda: crd_api_service() is not None, 30), "a custom resource's group version gets an APIService")
crd_service = crd_api_service()
check(crd_service.metadata.labels.get("kube-aggregator.kubernetes.io/automanaged") == "true"
      and crd_service.spec.group_priority_minimum == 1000 and crd_service.spec.version_priority == 100,
      "automanaged true, with kube-apiserver's priorities for custom resources")
extensions.delete_custom_resource_definition("gadgets.aggtest.example.com")
check(eventually(lambda: crd_api_service() is None, 60), "and loses it when the definition goes")

# --- the aggregated API server ---
work, ca_bundle, other_bundle = webhook_server.certificates(["DNS:wardle-api.%s.svc" % NS, "IP:127.0.0.1"])
with open(os.path.join(work, "front-proxy-ca.crt"), "w") as f:
    f.write(trust["requestheader-client-ca-file"])
allowed = json.loads(trust["requestheader-allowed-names"])
seen = []
emptied = set()
lock = threading.Lock()
RESOURCES = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP + "/" + VERSION, "resources": [
    {"name": "flunders", "singularName": "flunder", "namespaced": True, "kind": "Flunder",
     "verbs": ["get", "list", "create", "delete", "deletecollection"],
     "shortNames": ["fl"], "categories": ["wardle"]},
    {"name": "flunders/status", "singularName": "", "namespaced": True, "kind": "Flunder", "verbs": ["get", "update"]},
    {"name": "fischers", "singularName": "fischer", "namespaced": False, "kind": "Fischer", "verbs": ["list", "watch"]},
    # Fields of the wrong type, as a careless or hostile server might send.
    {"name": "oddities", "singularName": 7, "namespaced": "yes", "kind": ["Oddity"], "verbs": "everything", "shortNames": [1, "od"]},
]}


OPENAPI_URL = "/openapi/v3/apis/%s/%s?hash=0A1B2C" % (GROUP, VERSION)
GVK = {"group": GROUP, "kind": "Flunder", "version": VERSION}
OPENAPI = {"openapi": "3.0.0", "info": {"title": "wardle", "version": VERSION}, "paths": {
    "/apis/%s/%s/namespaces/{namespace}/flunders" % (GROUP, VERSION): {"get": {"x-kubernetes-group-version-kind": GVK}}},
    "components": {"schemas": {
    "com.example.wardle.Flunder": {
        "type": "object", "description": "A Flunder flunds.",
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                       "spec": {"type": "object", "description": "What a flunder wants.", "properties": {"size": {"type": "integer"}}}},
        "x-kubernetes-group-version-kind": [GVK]}}}}


class Aggregated(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_name = "first"

    def answer(self, code, document):
        body = json.dumps(document).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunked(self, pieces):
        """Answers with a chunked body (as a Go server streams a large list or a watch)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            data = piece.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        peer = self.connection.getpeercert() or {}
        common_name = dict(pair[0] for pair in peer.get("subject", ())).get("commonName")
        headers = {k.lower(): self.headers.get_all(k) for k in self.headers.keys()}
        with lock:
            seen.append({"path": self.path, "cn": common_name, "headers": headers})
        if common_name not in allowed:
            return self.answer(401, {"kind": "Status", "code": 401, "message": "not the front proxy"})
        if self.path.split("?")[0] in ("/apis/%s/%s" % (GROUP, VERSION), "/apis/%s/v1beta1" % GROUP):
            return self.answer(200, RESOURCES)
        if self.path == "/openapi/v3":
            return self.answer(200, {"paths": {"apis/%s/%s" % (GROUP, VERSION): {"serverRelativeURL": OPENAPI_URL}}})
        if self.path.split("?")[0] == OPENAPI_URL.split("?")[0]:
            return self.answer(200, OPENAPI)
        if self.path.startswith("/apis/%s/%s/fischers" % (GROUP, VERSION)):
            fischer = {"apiVersion": GROUP + "/" + VERSION, "kind": "Fischer", "metadata": {"name": "f1"}}
            if "watch=true" in self.path:
                return self.chunked([json.dumps({"type": "ADDED", "object": fischer}) + "\n",
                                     json.dumps({"type": "DELETED", "object": fischer}) + "\n"])
            return self.chunked(['{"apiVersion": "%s/%s", "kind": "FischerList", "metadata": {}, "items": [' % (GROUP, VERSION),
                                 json.dumps(fischer), "]}"])
        if self.path.startswith("/apis/%s/%s/namespaces/" % (GROUP, VERSION)):
            if self.path.split("/")[5] in emptied:
                return self.answer(200, {"apiVersion": GROUP + "/" + VERSION, "kind": "FlunderList", "metadata": {}, "items": []})
            item = {"apiVersion": GROUP + "/" + VERSION, "kind": "Flunder",
                    "metadata": {"name": "echo", "namespace": self.path.split("/")[5]},
                    "spec": {"user": self.headers.get("X-Remote-User"), "uid": self.headers.get("X-Remote-Uid"),
                             "groups": self.headers.get_all("X-Remote-Group") or [],
                             "extra": {k: self.headers.get_all(k) for k in self.headers.keys() if k.lower().startswith("x-remote-extra-")},
                             "authorization": self.headers.get("Authorization"), "query": self.path.partition("?")[2],
                             "server": self.server_name}}
            return self.answer(200, {"apiVersion": GROUP + "/" + VERSION, "kind": "FlunderList", "metadata": {}, "items": [item]})
        return self.answer(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound",
                                 "message": "no " + self.path})

    def do_DELETE(self):
        with lock:
            seen.append({"path": self.path, "method": "DELETE", "cn": None,
                         "headers": {k.lower(): self.headers.get_all(k) for k in self.headers.keys()}})
            emptied.add(self.path.split("/")[5])
        return self.answer(200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        body.setdefault("metadata", {})["annotations"] = {"created-by": self.headers.get("X-Remote-User", "")}
        return self.answer(201, body)

    def log_message(self, *args):
        pass


def start(handler):
    """An HTTPS server requiring a client certificate from the front proxy CA."""
    return webhook_server.serve(handler, work, client_ca=os.path.join(work, "front-proxy-ca.crt"))


class Second(Aggregated):
    server_name = "second"


server, port = start(Aggregated)

core.create_namespace({"metadata": {"name": NS}})
core.create_namespaced_service(NS, {"metadata": {"name": "wardle-api"},
                                    "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port}]}})
discovery_api.create_namespaced_endpoint_slice(NS, {
    "metadata": {"name": "wardle-api-1", "labels": {"kubernetes.io/service-name": "wardle-api"}},
    "addressType": "IPv4", "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
    "ports": [{"name": "https", "port": port, "protocol": "TCP"}]})

# --- validation ---
code, status = status_of(lambda: registration.create_api_service({
    "metadata": {"name": "wrong.wardle.example.com"},
    "spec": {"group": GROUP, "version": VERSION, "groupPriorityMinimum": 2000, "versionPriority": 200,
             "service": {"namespace": NS, "name": "wardle-api"}, "caBundle": ca_bundle, "insecureSkipTLSVerify": True}}))
check(code == 422 and "must be `spec.version+\".\"+spec.group`" in status["message"]
      and "may not be true if caBundle is present" in status["message"], "an APIService with a wrong name is refused: %s" % status)

registration.create_api_service({
    "metadata": {"name": NAME},
    "spec": {"group": GROUP, "version": VERSION, "groupPriorityMinimum": 2000, "versionPriority": 200,
             "service": {"namespace": NS, "name": "wardle-api"}, "caBundle": ca_bundle}})
check(registration.read_api_service(NAME).spec.service.port == 443, "the service port defaults to 443")


def condition(name=NAME):
    service = registration.read_api_service(name)
    for c in (service.status.conditions or []) if service.status else []:
        if c.type == "Available":
            return c
    return None


check(eventually(lambda: condition() is not None and condition().status == "True", 30),
      "the APIService becomes Available: %s" % condition())
check(condition().reason == "Passed" and condition().message == "all checks passed", "its reason is Passed")
with lock:
    probes = [s for s in seen if s["path"] == "/apis/%s/%s" % (GROUP, VERSION)]
check(probes and probes[0]["cn"] == "front-proxy-client" and probes[0]["headers"].get("x-remote-user") == ["system:kube-aggregator"],
      "the availability probe presents the front proxy certificate as system:kube-aggregator")

# --- requests proxied ---
listing = run_kubectl("get", "--raw", "/apis/%s/%s" % (GROUP, VERSION))
check(listing.returncode == 0 and json.loads(listing.stdout)["resources"][0]["name"] == "flunders",
      "kubectl get --raw reaches the aggregated server's discovery document")
echo = run_kubectl("get", "--raw", "/apis/%s/%s/namespaces/default/flunders?limit=5&labelSelector=a%%3Db" % (GROUP, VERSION))
check(echo.returncode == 0, "kubectl get --raw lists flunders: " + echo.stderr + str(seen[-1:]))
spec = json.loads(echo.stdout)["items"][0]["spec"]
check(spec["user"] == "admin" and "system:masters" in spec["groups"] and "system:authenticated" in spec["groups"],
      "the aggregated server sees X-Remote-User admin and its groups: %s" % spec)
check(sorted(spec["query"].split("&")) == ["labelSelector=a%3Db", "limit=5"], "the query is relayed as sent: " + spec["query"])

core.create_namespaced_service_account(NS, {"metadata": {"name": "reader"}})
token = run_kubectl("create", "token", "reader", "-n", NS).stdout.strip()
def reached():
    with lock:
        return len([s for s in seen if "/namespaces/%s/" % NS in s["path"] or s["path"].endswith("/namespaces/" + NS + "/flunders")])


before = reached()
denied = run_kubectl("get", "--raw", "/apis/%s/%s/namespaces/%s/flunders" % (GROUP, VERSION, NS), token=token)
check(denied.returncode != 0 and "forbidden" in denied.stderr.lower(),
      "a caller without RBAC for flunders is refused by Skiff: " + denied.stderr.strip())
check(reached() == before, "a refused request never reaches the aggregated server")
rbac.create_namespaced_role(NS, {"metadata": {"name": "flunder-reader"},
                                 "rules": [{"apiGroups": [GROUP], "resources": ["flunders"], "verbs": ["list"]}]})
rbac.create_namespaced_role_binding(NS, {"metadata": {"name": "flunder-reader"},
                                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "flunder-reader"},
                                         "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": NS}]})
allowed_list = None


def listed_by_reader():
    global allowed_list
    allowed_list = run_kubectl("get", "--raw", "/apis/%s/%s/namespaces/%s/flunders" % (GROUP, VERSION, NS), token=token)
    return allowed_list.returncode == 0


check(eventually(listed_by_reader, 10), "a service account with RBAC for flunders is proxied: " + allowed_list.stderr)
spec = json.loads(allowed_list.stdout)["items"][0]["spec"]
check(spec["user"] == "system:serviceaccount:%s:reader" % NS and "system:serviceaccounts:" + NS in spec["groups"]
      and spec["uid"], "the aggregated server sees the service account, its groups and its uid: %s" % spec)
check(spec["authorization"] is None, "the caller's bearer token is not forwarded")
check(any(k.lower().startswith("x-remote-extra-authentication.kubernetes.io%2f") for k in spec["extra"]),
      "the token's extra values go as X-Remote-Extra- headers, the key escaped: %s" % list(spec["extra"]))

manifest = json.dumps({"apiVersion": GROUP + "/" + VERSION, "kind": "Flunder", "metadata": {"name": "posted"}, "spec": {"size": 3}})
created = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "create", "--raw",
                          "/apis/%s/%s/namespaces/default/flunders" % (GROUP, VERSION), "-f", "-"],
                         input=manifest, capture_output=True, text=True, timeout=60)
check(created.returncode == 0 and json.loads(created.stdout)["spec"] == {"size": 3}
      and json.loads(created.stdout)["metadata"]["annotations"] == {"created-by": "admin"},
      "a POST's body is relayed and its answer returned: " + created.stdout + created.stderr)

fischers = run_kubectl("get", "--raw", "/apis/%s/%s/fischers" % (GROUP, VERSION))
check(fischers.returncode == 0 and json.loads(fischers.stdout)["items"][0]["metadata"]["name"] == "f1",
      "a chunked answer is relayed: " + fischers.stdout + fischers.stderr)
watched = run_kubectl("get", "--raw", "/apis/%s/%s/fischers?watch=true" % (GROUP, VERSION))
events = [json.loads(line)["type"] for line in watched.stdout.splitlines() if line.strip()]
check(watched.returncode == 0 and events == ["ADDED", "DELETED"], "a watch streams through the proxy: %s %s" % (events, watched.stderr))

# A server whose certificate the APIService's caBundle does not vouch for is not proxied to.
registration.create_api_service({
    "metadata": {"name": "v1beta1." + GROUP},
    "spec": {"group": GROUP, "version": "v1beta1", "groupPriorityMinimum": 2000, "versionPriority": 100,
             "service": {"namespace": NS, "name": "wardle-api"}, "caBundle": other_bundle}})
check(eventually(lambda: condition("v1beta1." + GROUP) is not None and condition("v1beta1." + GROUP).status == "True", 30),
      "an APIService is available by its probe, which does not verify the server")
untrusted = run_kubectl("get", "--raw", "/apis/%s/v1beta1/namespaces/default/flunders" % GROUP)
check(untrusted.returncode != 0 and "error trying to reach service" in untrusted.stderr and "TLS handshake" in untrusted.stderr,
      "a proxied request to a server the caBundle does not vouch for fails: " + untrusted.stderr.strip())
registration.delete_api_service("v1beta1." + GROUP)

# The endpoints moving to another server take effect at once (nothing stale is kept).
second, second_port = start(Second)


def answered_by():
    result = run_kubectl("get", "--raw", "/apis/%s/%s/namespaces/default/flunders" % (GROUP, VERSION))
    return json.loads(result.stdout)["items"][0]["spec"]["server"] if result.returncode == 0 else result.stderr


check(answered_by() == "first", "requests go to the first server")
discovery_api.patch_namespaced_endpoint_slice("wardle-api-1", NS, {"ports": [{"name": "https", "port": second_port, "protocol": "TCP"}]})
check(eventually(lambda: answered_by() == "second", 5), "after the EndpointSlice changes, requests go to the second server")
discovery_api.patch_namespaced_endpoint_slice("wardle-api-1", NS, {"ports": [{"name": "https", "port": port, "protocol": "TCP"}]})
check(eventually(lambda: answered_by() == "first", 5), "and back")
second.shutdown()
second.server_close()

# --- discovery ---
code, body, _ = raw("/apis")
groups = {g["name"]: g for g in json.loads(body)["groups"]}
check(GROUP in groups and groups[GROUP]["preferredVersion"]["version"] == VERSION, "legacy /apis lists the aggregated group")
code, body, _ = raw("/apis/" + GROUP)
check(code == 200 and json.loads(body)["kind"] == "APIGroup", "/apis/GROUP is served for the aggregated group")
accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def aggregated_entry():
    code, body, _ = raw("/apis", {"Accept": accept})
    for item in json.loads(body)["items"]:
        if item["metadata"]["name"] == GROUP:
            return item["versions"][0]
    return None


entry = aggregated_entry()
check(entry is not None and entry["freshness"] == "Current" and entry["resources"][0]["resource"] == "flunders"
      and entry["resources"][0]["subresources"][0]["subresource"] == "status", "aggregated discovery lists the group: %s" % entry)
oddity = [r for r in entry["resources"] if r["resource"] == "oddities"]
check(oddity and oddity[0]["verbs"] == [] and oddity[0]["shortNames"] == ["od"] and oddity[0]["scope"] == "Cluster"
      and oddity[0]["responseKind"]["kind"] == "" and oddity[0]["singularResource"] == "",
      "fields of the wrong type from the aggregated server are dropped, not relayed: %s" % oddity)
resources = run_kubectl("api-resources", "--api-group=" + GROUP)
check(resources.returncode == 0 and "flunders" in resources.stdout and "fl " in resources.stdout and "Flunder" in resources.stdout,
      "kubectl api-resources lists flunders: " + resources.stdout + resources.stderr)
names = run_kubectl("get", "flunders", "-n", "default", "-o", "name")
check(names.returncode == 0 and names.stdout.strip() == "flunder.wardle.example.com/echo", "kubectl get flunders: " + names.stdout + names.stderr)

code, body, _ = raw("/openapi/v3")
check(json.loads(body)["paths"].get("apis/%s/%s" % (GROUP, VERSION)) == {"serverRelativeURL": OPENAPI_URL}
      and "apis/apps/v1" in json.loads(body)["paths"], "the OpenAPI v3 root lists the aggregated group version at its server's URL")
code, body, headers = raw(OPENAPI_URL)
check(code == 200 and json.loads(body) == OPENAPI, "the aggregated group version's OpenAPI document is proxied")
explained = run_kubectl("explain", "flunders.spec")
check(explained.returncode == 0 and "What a flunder wants." in explained.stdout, "kubectl explain reads it: " + explained.stdout + explained.stderr)

code, body, _ = raw("/metrics", {"Accept": "text/plain"})
check(b'apiserver_request_total{verb="list",resource="flunders.wardle.example.com",code="200"}' in body,
      "proxied requests are counted under their resource")
check(b'apiserver_request_total{verb="list",resource="fischers.wardle.example.com",code="200"} 1' in body,
      "a streamed (chunked) list is counted once it ends, not as a watch")
check(('aggregator_unavailable_apiservice{name="%s"} 0' % NAME).encode() in body
      and b'aggregator_unavailable_apiservice{name="v1.apps"} 0' in body, "the unavailable-APIService gauge says 0 for available ones")

# --- namespaces: their aggregated objects are deleted with them ---
def namespace_gone(name):
    try:
        core.read_namespace(name)
        return False
    except client.exceptions.ApiException as error:
        return error.status == 404


core.create_namespace({"metadata": {"name": "agg-doomed"}})
core.delete_namespace("agg-doomed")
check(eventually(lambda: namespace_gone("agg-doomed"), 30), "a deleted namespace is removed")
with lock:
    deletes = [s for s in seen if s.get("method") == "DELETE" and "/namespaces/agg-doomed/flunders" in s["path"]]
check(deletes and deletes[0]["headers"].get("x-remote-user") == ["system:skiff:namespace-controller"],
      "the namespace controller deleted its flunders through the aggregated API: %s" % deletes)

# --- availability lost ---
server.shutdown()
server.server_close()
check(eventually(lambda: condition().status == "False", 30), "the APIService becomes unavailable when its server stops")
check(condition().reason == "FailedDiscoveryCheck" and "failing or missing response from https://127.0.0.1:%d/apis/%s/%s" % (port, GROUP, VERSION)
      in condition().message, "the reason says the discovery check failed: %s" % condition().message)
metrics = raw("/metrics", {"Accept": "text/plain"})[1]
check(('aggregator_unavailable_apiservice{name="%s"} 1' % NAME).encode() in metrics
      and ('aggregator_unavailable_apiservice_total{name="%s",reason="FailedDiscoveryCheck"} 1' % NAME).encode() in metrics,
      "and the gauge says 1, the counter counts the transition")
down = run_kubectl("get", "--raw", "/apis/%s/%s/namespaces/default/flunders" % (GROUP, VERSION))
check(down.returncode != 0 and "service unavailable" in down.stderr.lower(), "a request is answered 503: " + down.stderr.strip())
entry = aggregated_entry()
check(entry is not None and entry["freshness"] == "Stale", "aggregated discovery marks the version Stale")
core.create_namespace({"metadata": {"name": "agg-stuck"}})
core.delete_namespace("agg-stuck")


def stuck_message():
    conditions = core.read_namespace("agg-stuck").status.conditions or []
    return " ".join(c.message or "" for c in conditions)


check(eventually(lambda: "flunders.wardle.example.com (not removed by their aggregated API servers)" in stuck_message(), 30),
      "a namespace whose aggregated objects cannot be deleted stays, and says why: " + stuck_message())
discovery_api.delete_namespaced_endpoint_slice("wardle-api-1", NS)
check(eventually(lambda: condition().reason == "MissingEndpoints", 30), "without endpoints the reason is MissingEndpoints")
core.delete_namespaced_service("wardle-api", NS)
check(eventually(lambda: condition().reason == "ServiceNotFound", 30), "without its Service the reason is ServiceNotFound")
registration.delete_api_service(NAME)
check(eventually(lambda: GROUP not in {g["name"] for g in json.loads(raw("/apis")[1])["groups"]}, 10),
      "a deleted APIService's group leaves discovery")
gone = run_kubectl("get", "--raw", "/apis/%s/%s" % (GROUP, VERSION))
check(gone.returncode != 0 and "NotFound" in gone.stderr, "and its path is 404: " + gone.stderr.strip())
check(eventually(lambda: namespace_gone("agg-stuck"), 30), "without the APIService, the held namespace is removed")
print("OK")
