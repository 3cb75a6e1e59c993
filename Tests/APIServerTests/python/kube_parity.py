"""Drives a running `skiff server` over raw HTTPS where kube-apiserver's behaviour is exact:
protobuf answers and watch streams, content negotiation, metadata-only lists, status and
finalize subresources, CSR approval, config key validation, field selectors, the two Events
APIs, the objects the server publishes, and continue tokens that outlive compaction.

Usage: kube_parity.py SERVER_URL DATA_DIR   (the server compacts every second)
Prints one line per check and exits non-zero at the first failure.
"""
import base64
import subprocess
import json
import ssl
import sys
import time
import urllib.error
import urllib.request

from checks import check, eventually

url, data_dir = sys.argv[1:3]
context = ssl.create_default_context(cafile=data_dir + "/pki/ca.crt")
context.load_cert_chain(data_dir + "/pki/admin.crt", data_dir + "/pki/admin.key")
PROTOBUF = "application/vnd.kubernetes.protobuf"


def call(method, path, body=None, content_type="application/json", accept="application/json"):
    """(status, content type, body bytes) of one request."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": content_type, "Accept": accept})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def js(method, path, body=None, **kw):
    status, _, raw = call(method, path, body, **kw)
    return status, (json.loads(raw) if raw else None)


# --- a minimal protobuf reader and writer, enough to check the wire format ---
def varint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def fields(data):
    """{field number: [values]}; length-delimited values as bytes."""
    out, i = {}, 0
    while i < len(data):
        tag, i = varint(data, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 2:
            length, i = varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        else:
            value, i = data[i:i + 4], i + 4
        out.setdefault(number, []).append(value)
    return out


def envelope(data):
    """(apiVersion, kind, message fields) of a `k8s\\0` + runtime.Unknown body."""
    check(data[:4] == b"k8s\x00", "a protobuf body starts with the k8s magic")
    unknown = fields(data[4:])
    type_meta = fields(unknown[1][0])
    return type_meta[1][0].decode(), type_meta[2][0].decode(), fields(unknown[2][0])


def put_varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, payload):
    if isinstance(payload, int):
        return put_varint(number << 3) + put_varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return put_varint(number << 3 | 2) + put_varint(len(payload)) + payload


ns = "parity"
check(js("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})[0] == 201,
      "the namespace is created")
base = "/api/v1/namespaces/%s" % ns

# Issue 20 A and B: an empty path segment and the largest limit once killed the server.
status, refused = js("PUT", "/api/v1/namespaces/%s//configmaps" % ns, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
check(status == 404 and refused["kind"] == "Status", "a PUT with an empty path segment is a 404 (%d)" % status)
status, refused = js("PUT", base + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
check(status == 405, "a PUT on a collection is a 405 (%d)" % status)
status, listed = js("GET", "/api/v1/configmaps?limit=9223372036854775807")
check(status == 200 and "continue" not in listed["metadata"], "the largest limit lists everything (%d)" % status)

# Issue 20 F: a field name holding NUL or CRLF once got an empty reply although the object
# was stored (its warning broke the response headers).
for name, field_name in (("nul", "\u0000junk"), ("crlf", "x\r\nSet-Cookie: a=b")):
    raw_body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},%s:1}' % (name, json.dumps(field_name))
    request = urllib.request.Request(url + base + "/configmaps", data=raw_body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        warning = response.headers.get("Warning", "")
        check(response.status == 201 and "unknown field" in warning and "Set-Cookie" not in response.headers,
              "a field named %r is answered 201 with a quoted warning: %s" % (field_name, warning))

# Issue 20 G: requests that once answered 200 and wiped the object.
js("POST", base + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "canary"}, "data": {"keep": "me"}})
canary = js("GET", base + "/configmaps/canary")[1]
attempts = [
    ("PUT", {}, "application/json"),
    ("PUT", {"apiVersion": None, "kind": None, "metadata": None, "data": None}, "application/json"),
    ("PUT", b"!!map {? a}", "application/yaml"),
    ("PATCH", {"metadata": None}, "application/merge-patch+json"),
    ("PATCH", {"$retainKeys": ["nonexistent"], "metadata": {"resourceVersion": "1"}}, "application/strategic-merge-patch+json"),
]
for method, body, ctype in attempts:
    status, _, raw = call(method, base + "/configmaps/canary", body, content_type=ctype)
    check(status in (400, 409, 422), "%s %s is refused (%d)" % (method, json.dumps(body) if not isinstance(body, bytes) else body, status))
status, _, raw = call("PATCH", base + "/configmaps/canary?fieldManager=parity",
                      json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "canary", "resourceVersion": "1"},
                                  "data": {"keep": "changed"}}).encode(), content_type="application/apply-patch+yaml")
check(status == 409, "server-side apply with a stale resourceVersion is a 409 (%d)" % status)
check(js("GET", base + "/configmaps/canary")[1] == canary, "the object is byte for byte as before")

# A Deployment needs a selector matching its template, and containers.
status, refused = js("POST", "/apis/apps/v1/namespaces/%s/deployments" % ns,
                     {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nospec"}})
check(status == 422 and "spec.selector: Required value" in refused["message"], "a Deployment without spec is refused: %s" % refused.get("message"))
status, refused = js("POST", "/apis/apps/v1/namespaces/%s/deployments" % ns,
                     {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "mismatch"},
                      "spec": {"selector": {"matchLabels": {"app": "a"}},
                               "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
check(status == 422 and "does not match template" in refused["message"], "a selector that misses the template's labels is refused")

# Protobuf in: a ConfigMap written by hand, with a field number this server does not know.
meta = field(1, "from-protobuf") + field(11, field(1, "app") + field(2, "pb"))
config_map = field(1, meta) + field(2, field(1, "k") + field(2, "v")) + field(99, "from a newer client")
body = b"k8s\x00" + field(1, field(1, "v1") + field(2, "ConfigMap")) + field(2, config_map)
status, ctype, raw = call("POST", base + "/configmaps", body, content_type=PROTOBUF, accept=PROTOBUF + ", application/json")
check(status == 201, "a protobuf create with an unknown field number is accepted (%d %r)" % (status, raw[:200]))
check(ctype == PROTOBUF, "the answer is protobuf when the client prefers it: %s" % ctype)
api_version, kind, message = envelope(raw)
check((api_version, kind) == ("v1", "ConfigMap"), "the answer's envelope names v1 ConfigMap")
object_meta = fields(message[1][0])
check(object_meta[1][0] == b"from-protobuf" and object_meta[3][0] == ns.encode(), "the answer's metadata has name and namespace")
check(js("GET", base + "/configmaps/from-protobuf")[1]["data"] == {"k": "v"}, "the stored object reads back as JSON")

# Protobuf out: a list, and a Status error.
status, ctype, raw = call("GET", base + "/configmaps", accept=PROTOBUF)
api_version, kind, message = envelope(raw)
check(kind == "ConfigMapList" and len(message.get(2, [])) >= 1, "a list answers ConfigMapList in protobuf")
status, ctype, raw = call("GET", base + "/configmaps/missing", accept=PROTOBUF)
api_version, kind, message = envelope(raw)
check(status == 404 and kind == "Status" and message[6][0] == 404, "a 404 is a protobuf Status")

# Negotiation: q-values, and 406 when nothing offered can be served.
status, ctype, _ = call("GET", base + "/configmaps", accept=PROTOBUF + ";q=0.5, application/json")
check(ctype.startswith("application/json"), "a lower q-value for protobuf gets JSON")
status, _, raw = call("GET", base + "/configmaps", accept="text/html")
check(status == 406 and json.loads(raw)["reason"] == "NotAcceptable", "Accept: text/html gets 406")

# A protobuf watch: length-prefixed WatchEvent frames around enveloped objects.
stream = urllib.request.urlopen(urllib.request.Request(
    url + base + "/configmaps?watch=true&timeoutSeconds=5", headers={"Accept": PROTOBUF}), context=context, timeout=30)
check(stream.headers.get("Content-Type") == PROTOBUF + ";stream=watch", "a protobuf watch is application/vnd.kubernetes.protobuf;stream=watch")
frames = []
while len(frames) < 2:
    length = int.from_bytes(stream.read(4), "big")
    frames.append(fields(stream.read(length)))
stream.close()
event = frames[0]
check(event[1][0] == b"ADDED", "the first frame is an ADDED WatchEvent")
api_version, kind, message = envelope(fields(event[2][0])[1][0])
check(kind == "ConfigMap", "the frame's object is an enveloped ConfigMap")

# A review has no Table form.
status, _, raw = call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                      {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                       "spec": {"nonResourceAttributes": {"path": "/", "verb": "get"}}},
                      accept="application/json;as=Table;v=v1;g=meta.k8s.io")
check(status == 406, "a SelfSubjectAccessReview asked for as=Table gets 406 (%d)" % status)

# Metadata-only answers (what kube-controller-manager's garbage collector reads).
status, listed = js("GET", base + "/configmaps", accept="application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
check(listed["kind"] == "PartialObjectMetadataList" and "data" not in listed["items"][0]
      and listed["items"][0]["metadata"]["namespace"] == ns, "as=PartialObjectMetadataList lists metadata only")
status, _, raw = call("GET", base + "/configmaps/from-protobuf", accept=PROTOBUF + ";as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
check(envelope(raw)[:2] == ("meta.k8s.io/v1", "PartialObjectMetadata"), "as=PartialObjectMetadata in protobuf")

# Status writes keep the metadata changes kube-apiserver keeps; finalize changes finalizers.
status, patched = js("PATCH", "/api/v1/namespaces/%s/status" % ns,
                     {"metadata": {"annotations": {"patched": "yes"}}, "status": {"conditions": [{"type": "Probe", "status": "True"}]}},
                     content_type="application/merge-patch+json")
check(status == 200 and patched["metadata"]["annotations"].get("patched") == "yes", "a namespaces/status patch keeps its annotation")
check(patched["status"]["conditions"][0]["type"] == "Probe", "and its status")
finalize = dict(patched)
finalize["spec"] = {"finalizers": ["kubernetes", "example.com/hold"]}
status, finalized = js("PUT", "/api/v1/namespaces/%s/finalize" % ns, finalize)
check(status == 200 and finalized["spec"]["finalizers"] == ["kubernetes", "example.com/hold"], "namespaces/finalize sets finalizers")
finalize["spec"] = {"finalizers": ["kubernetes"]}
finalize["metadata"] = finalized["metadata"]
js("PUT", "/api/v1/namespaces/%s/finalize" % ns, finalize)

# CertificateSigningRequest approval (the request must be a real PEM certificate request).
request_pem = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                              "-keyout", "/dev/null", "-subj", "/CN=parity"], check=True, capture_output=True).stdout
csr = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": "parity-csr"},
       "spec": {"request": base64.b64encode(request_pem).decode(),
                "signerName": "example.com/parity", "usages": ["digital signature"]}}
js("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", csr)
status, got = js("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests/parity-csr/approval")
check(status == 200, "certificatesigningrequests/approval is served (%d)" % status)
got["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "Parity", "message": "approved"}]}
status, approved = js("PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/parity-csr/approval", got)
check(status == 200 and approved["status"]["conditions"][0]["type"] == "Approved", "an approval is written through it")
status, selected = js("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector=spec.signerName%3Dexample.com/parity")
check([c["metadata"]["name"] for c in selected["items"]] == ["parity-csr"], "CSRs select on spec.signerName")

# Config keys and sizes.
status, refused = js("POST", base + "/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"}, "data": {"": "eA=="}})
check(status == 422 and "data[]" in refused["message"], "a Secret with an empty data key is refused: %s" % refused["message"])
status, refused = js("POST", base + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                                                    "data": {"a": "x" * (600 << 10), "b": "y" * (600 << 10)}})
check(status == 422 and "Too long" in refused["message"], "ConfigMap data over 1 MiB is refused")

# Field selectors with kube-apiserver's field sets.
js("POST", base + "/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless"},
                                "spec": {"clusterIP": "None", "ports": [{"port": 80}]}})
js("POST", base + "/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
status, selected = js("GET", base + "/services?fieldSelector=spec.clusterIP!%3DNone")
check(status == 200 and [s["metadata"]["name"] for s in selected["items"]] == ["web"], "services select on spec.clusterIP (kubelets' query)")
check(js("GET", base + "/services?fieldSelector=spec.type%3DClusterIP")[1]["items"] != [], "and on spec.type")
js("POST", base + "/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}})
check(len(js("GET", base + "/pods?fieldSelector=spec.hostNetwork%3Dfalse")[1]["items"]) == 1, "pods without hostNetwork match spec.hostNetwork=false")
status, refused = js("GET", base + "/pods?fieldSelector=spec.bogus%3Dx")
check(status == 400 and "field label not supported: spec.bogus" in refused["message"], "an unknown field label is a 400")

# RuntimeClass admission, and volumes that start Pending.
status, refused = js("POST", base + "/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "rc"},
                                              "spec": {"runtimeClassName": "missing", "containers": [{"name": "c", "image": "x"}]}})
check(status == 403 and 'RuntimeClass "missing" not found' in refused["message"], "a pod naming a missing RuntimeClass is refused")
js("POST", "/apis/node.k8s.io/v1/runtimeclasses", {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "parity"},
                                                   "handler": "runc", "overhead": {"podFixed": {"cpu": "250m"}},
                                                   "scheduling": {"nodeSelector": {"sandbox": "yes"}}})
status, pod = js("POST", base + "/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "rc"},
                                          "spec": {"runtimeClassName": "parity", "containers": [{"name": "c", "image": "x"}]}})
check(status == 201 and pod["spec"]["overhead"] == {"cpu": "250m"} and pod["spec"]["nodeSelector"] == {"sandbox": "yes"},
      "a pod naming a RuntimeClass gets its overhead and node selector")
status, claim = js("POST", base + "/persistentvolumeclaims", {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
                                                              "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
check(status == 201 and claim["status"]["phase"] == "Pending", "a new claim is Pending")

# Server-side apply's strict errors and YAML's duplicate keys, in Go's words.
yaml_body = b"\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: one\n  a: two\n"
status, _, raw = call("PATCH", base + "/configmaps/applied?fieldManager=parity&fieldValidation=Strict", yaml_body,
                      content_type="application/apply-patch+yaml")
check(status == 400 and b'line 8: key \\"a\\" already set in map' in raw, "a key given twice names the second line: %r" % raw[:300])
yaml_body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\nbogus: 1\n"
status, _, raw = call("PATCH", base + "/configmaps/applied?fieldManager=parity&fieldValidation=Strict", yaml_body,
                      content_type="application/apply-patch+yaml")
check(status == 400 and b".bogus: field not declared in schema" in raw, "a strict apply names the undeclared field")

# The Service's cluster IP has its IPAddress object; the server publishes its own.
web = js("GET", base + "/services/web")[1]
ip = web["spec"]["clusterIP"]
status, address = js("GET", "/apis/networking.k8s.io/v1/ipaddresses/" + ip)
check(status == 200 and address["spec"]["parentRef"] == {"group": "", "resource": "services", "namespace": ns, "name": "web"},
      "the cluster IP %s has an IPAddress naming its Service" % ip)
js("DELETE", base + "/services/web")
check(js("GET", "/apis/networking.k8s.io/v1/ipaddresses/" + ip)[0] == 404, "and it goes with the Service")
status, refused = js("POST", "/apis/networking.k8s.io/v1/ipaddresses", {
    "apiVersion": "networking.k8s.io/v1", "kind": "IPAddress", "metadata": {"name": "fe80:0::1"},
    "spec": {"parentRef": {"group": "", "resource": "services", "namespace": ns, "name": "x"}}})
check(status == 422 and "canonical" in refused["message"], "an IPAddress must be named in canonical form: %s" % refused.get("message"))
status, _ = js("POST", "/apis/networking.k8s.io/v1/ipaddresses", {
    "apiVersion": "networking.k8s.io/v1", "kind": "IPAddress", "metadata": {"name": "fe80::1"},
    "spec": {"parentRef": {"group": "", "resource": "services", "namespace": ns, "name": "x"}}})
check(status == 201, "an IPv6 address is a valid IPAddress name")
status, tracking = js("GET", "/api/v1/namespaces/kube-system/configmaps/kube-apiserver-legacy-service-account-token-tracking")
check(status == 200 and len(tracking["data"]["since"]) == 10, "the legacy token tracking ConfigMap is published")
status, cidr = js("GET", "/apis/networking.k8s.io/v1/servicecidrs/kubernetes")
check(status == 200 and cidr["spec"]["cidrs"] == ["10.96.0.0/12"], "the default ServiceCIDR is published")
status, slice_ = js("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes")
check(status == 200 and slice_["ports"][0]["name"] == "https" and slice_["endpoints"][0]["addresses"],
      "the kubernetes Service has its EndpointSlice")

# One Event, two APIs.
event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1"}, "eventTime": "2026-01-02T03:04:05.000000Z",
         "reportingController": "parity-controller", "reportingInstance": "i", "action": "Test", "reason": "Checked",
         "note": "from events.k8s.io", "type": "Normal", "regarding": {"kind": "Pod", "name": "p", "namespace": ns}}
check(js("POST", "/apis/events.k8s.io/v1/namespaces/%s/events" % ns, event)[0] == 201, "an events.k8s.io/v1 Event is created")
status, core = js("GET", base + "/events/e1")
check(status == 200 and core["message"] == "from events.k8s.io" and core["involvedObject"]["name"] == "p",
      "it is read through core/v1 with message and involvedObject")
check([e["metadata"]["name"] for e in js("GET", base + "/events?fieldSelector=source%3Dparity-controller")[1]["items"]] == ["e1"],
      "core/v1 selects it by source (the reporting controller)")
listed = js("GET", "/apis/events.k8s.io/v1/namespaces/%s/events?fieldSelector=reportingController%%3Dparity-controller" % ns)[1]
check([e["metadata"]["name"] for e in listed["items"]] == ["e1"] and listed["items"][0]["note"] == "from events.k8s.io",
      "events.k8s.io/v1 lists it by reportingController, as written")
status, patched = js("PATCH", "/apis/events.k8s.io/v1/namespaces/%s/events/e1" % ns, {"note": "patched"},
                     content_type="application/merge-patch+json")
check(status == 200 and patched["note"] == "patched" and js("GET", base + "/events/e1")[1]["message"] == "patched",
      "a patch through events.k8s.io/v1 changes the one stored event")

# Custom kinds in OpenAPI v2 as kube-apiserver publishes them.
crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "loose.parity.example.com"},
       "spec": {"group": "parity.example.com", "scope": "Namespaced",
                "names": {"plural": "loose", "singular": "loose", "kind": "Loose", "listKind": "LooseList"},
                "versions": [{"name": "v1", "served": True, "storage": True,
                              "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
check(js("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201, "a CRD keeping unknown fields is created")
deadline, published = time.time() + 30, None
while time.time() < deadline and published is None:
    published = js("GET", "/openapi/v2")[1]["definitions"].get("com.example.parity.v1.Loose")
    time.sleep(0.2)
check(published is not None and published.get("type") == "object" and "properties" not in published
      and "x-kubernetes-preserve-unknown-fields" not in published,
      "its v2 definition is a bare object: %s" % published)

# Issue 20 E: an object's size is bounded after patches, whatever the request's size.
loose = "/apis/parity.example.com/v1/namespaces/%s/loose" % ns
deadline = time.time() + 30
while time.time() < deadline and call("GET", loose)[0] != 200:
    time.sleep(0.2)
check(js("POST", loose, {"apiVersion": "parity.example.com/v1", "kind": "Loose", "metadata": {"name": "l"}, "x": ["seed"]})[0] == 201,
      "a custom object that keeps unknown fields is created")
before = js("GET", loose + "/l")[1]
bomb = [{"op": "add", "path": "/x/-", "value": "y" * 1000}] + [{"op": "copy", "from": "/x", "path": "/x/-"}] * 23
started = time.time()
status, refused = js("PATCH", loose + "/l", bomb, content_type="application/json-patch+json")
check(status == 413 and time.time() - started < 10, "a JSON patch of 23 doubling copies is refused (%d, %.1f s)" % (status, time.time() - started))
status, refused = js("PATCH", loose + "/l", [{"op": "test", "path": "/x/0", "value": "seed"}] * 10_001,
                     content_type="application/json-patch+json")
check(status == 413 and "10000" in refused["message"], "a JSON patch of more than 10,000 operations is refused")
status, refused = js("PATCH", loose + "/l", {"big": "z" * (1600 << 10)}, content_type="application/merge-patch+json")
check(status == 413 and "too large" in refused["message"], "a merge patch that grows the object past 1.5 MiB is refused")
check(js("GET", loose + "/l")[1] == before, "the object is unchanged")

# A continue token that outlives compaction: 410 with an inconsistent continuation.
for i in range(6):
    js("POST", base + "/podtemplates", {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t%d" % i},
                                        "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}})
first = js("GET", base + "/podtemplates?limit=2")[1]
token = first["metadata"]["continue"]
check(first["metadata"]["remainingItemCount"] == 4, "a page of 2 of 6 reports 4 remaining")
deadline = time.time() + 60
expired = None
while time.time() < deadline:
    js("POST", base + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "tick-"}})
    status, answer = js("GET", base + "/podtemplates?limit=2&continue=" + token)
    if status == 410:
        expired = answer
        break
    time.sleep(0.5)
check(expired is not None and expired["reason"] == "Expired", "the first page's token expires once its revision is compacted")
inconsistent = expired["metadata"].get("continue", "")
check(inconsistent != "", "the 410 carries a continue token for an inconsistent list")
status, second = js("GET", base + "/podtemplates?limit=2&continue=" + inconsistent)
check(status == 200 and [t["metadata"]["name"] for t in second["items"]] == ["t2", "t3"]
      and second["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"],
      "it continues after the last key at a newer revision")
third = js("GET", base + "/podtemplates?limit=2&continue=" + second["metadata"]["continue"])[1]
check([t["metadata"]["name"] for t in third["items"]] == ["t4", "t5"] and third["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"],
      "and the pages after it keep that revision")
# Found by the fuzz suite. A namespaced kind's all-namespaces path serves list and watch only.
status, refused = js("DELETE", "/api/v1/configmaps")
check(status == 405 and refused["kind"] == "Status", "DELETE across all namespaces is 405 (not a delete of every ConfigMap)")
check(js("GET", base + "/podtemplates/t0")[0] == 200, "and deleted nothing")
status, _ = js("POST", "/api/v1/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}})
check(status == 405, "POST to the all-namespaces path is 405")
# A watch from a resourceVersion far past the store's: 504 after a wait, not a crash.
status, answer = js("GET", base + "/configmaps?watch=1&resourceVersion=9223372036854775807&timeoutSeconds=1")
check(status == 504 and "Too large resource version" in answer["message"], f"a watch from resourceVersion 2^63-1 gets 504 ({status})")
# Metrics count only resources the server knows: a client cannot add label values of its own.
js("GET", base + "/zzzfuzzresource/a")
js("GET", base + "/configmaps/a/zzzfuzzsub")
_, _, metrics = call("GET", "/metrics", accept="text/plain")
check(b"zzzfuzz" not in metrics, "unknown resources and subresources are not metric labels")
# Found by review (issue 20): values that once trapped the server, each followed by a check
# that it still answers.
def alive(what):
    check(call("GET", "/readyz", accept="*/*")[0] == 200, what)

pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q"},
       "spec": {"containers": [{"name": "c", "image": "i", "resources": {"requests": {"cpu": "1e-9223372036854775808"}}}]}}
status, _ = js("POST", base + "/pods", pod)
check(status == 422, f"a quantity with exponent -2^63 is refused as kube-apiserver refuses it ({status})")
alive("and the server still answers")
for bad in ("abc", "-1", "1e", "1.5.5Gi"):
    pod["metadata"]["name"] = "q" + str(len(bad))
    pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] = bad
    status, refused = js("POST", base + "/pods", pod)
    check(status == 422 and "resources.requests[cpu]" in refused["message"], f"cpu {bad!r} is refused ({status})")
deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "q"},
              "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                  "containers": [{"name": "c", "image": "i", "resources": {"limits": {"memory": "lots"}}}]}}}}
status, refused = js("POST", "/apis/apps/v1/namespaces/%s/deployments" % ns, deployment)
check(status == 422 and "spec.template.spec.containers[0].resources.limits[memory]" in refused["message"],
      f"a Deployment's template quantities are checked too ({status})")
pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "250m"
pod["metadata"]["name"] = "qok"
check(js("POST", base + "/pods", pod)[0] == 201, "a real quantity is accepted")
status, _ = js("POST", base + "/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "colon"},
                                       "spec": {"containers": [{"name": "c", "image": ":"}]}})
alive(f"an image of ':' with no pull policy does not stop the server ({status})")
status, refused = call("POST", base + "/pods", b"apiVersion: v1\nkind: Pod\nmetadata: {name: inf}\nspec:\n  containers:\n"
                                             b"  - {name: c, image: i, resources: {requests: {cpu: .inf}}}\n",
                       content_type="application/yaml")[0::2]
check(status == 400 and b"finite" in refused, f"YAML .inf is refused as JSON has no infinity ({status})")
status, _ = js("POST", base + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "owned", "ownerReferences": [
                                                 {"apiVersion": "/", "kind": "X", "name": "a", "uid": "b"}]}})
# Created after it, a dependent whose owner does not exist: once the collector has deleted it,
# it has looked at the first one too.
js("POST", base + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "orphaned", "ownerReferences": [
    {"apiVersion": "v1", "kind": "ConfigMap", "name": "nobody", "uid": "00000000-0000-0000-0000-000000000000"}]}})
check(eventually(lambda: js("GET", base + "/configmaps/orphaned")[0] == 404, 30), "the collector deletes a dependent of an absent owner")
alive(f"an owner reference with apiVersion '/' does not stop the garbage collector's server ({status})")
status, _ = js("POST", base + "/pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "restarts"},
                                       "spec": {"containers": [{"name": "c", "image": "i"}]}})
pod = js("GET", base + "/pods/restarts")[1]
pod["status"] = {"containerStatuses": [{"name": "c", "restartCount": 9223372036854775807, "image": "i", "imageID": "", "ready": False},
                                       {"name": "d", "restartCount": 9223372036854775807, "image": "i", "imageID": "", "ready": False}]}
js("PUT", base + "/pods/restarts/status", pod)
status, _ = js("GET", base + "/pods", accept="application/json;as=Table;v=v1;g=meta.k8s.io")
check(status == 200, f"a Table of pods whose restart counts overflow a sum is served ({status})")
# Copies that double a document's depth per operation: refused before the result is too deep.
js("POST", base + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}})
crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "gadgets.parity.example.com"},
       "spec": {"group": "parity.example.com", "scope": "Namespaced",
                "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                    "type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                        "x-kubernetes-validations": [{"rule": "!has(self.timeout) || duration(self.timeout).getSeconds() <= 3600"}],
                        "properties": {"timeout": {"type": "string"}, "big": {"type": "number", "maximum": 9223372036854775807}}}}}}}]}}
js("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
gadgets = "/apis/parity.example.com/v1/namespaces/%s/gadgets" % ns
deadline = time.time() + 30
while time.time() < deadline and js("GET", gadgets)[0] != 200:
    time.sleep(0.2)
status, _ = js("POST", gadgets, {"apiVersion": "parity.example.com/v1", "kind": "Gadget", "metadata": {"name": "g1"},
                                 "spec": {"timeout": "3000000000000000h"}})
check(status == 422, f"a CEL rule on a duration past Go's range is an invalid object, not a crash ({status})")
status, _ = js("POST", gadgets, {"apiVersion": "parity.example.com/v1", "kind": "Gadget", "metadata": {"name": "g2"},
                                 "spec": {"big": 1e19}})
check(status == 422, f"a number over a maximum of 2^63-1 is refused with a message ({status})")
def doubling(copies):
    """A list nested 10 deep, then `copies` copies of it into its own innermost list: each
    copy doubles the depth (10, 20, 40, ...)."""
    inner = 9  # segments from x to its innermost (empty) list
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {}},
           {"op": "add", "path": "/metadata/annotations/x", "value": json.loads("[" * 10 + "]" * 10)}]
    for _ in range(copies):
        ops.append({"op": "copy", "from": "/metadata/annotations/x", "path": "/metadata/annotations/x" + "/0" * (inner + 1)})
        inner = 2 * inner + 1
    return json.dumps(ops).encode()


status, answer = call("PATCH", base + "/configmaps/deep", doubling(3), content_type="application/json-patch+json")[0::2]
check(status == 400 and b"cannot unmarshal" in answer,
      f"three doubling copies (depth 80) apply, and the result is refused as annotations must be strings ({status})")
status, answer = call("PATCH", base + "/configmaps/deep", doubling(8), content_type="application/json-patch+json")[0::2]
check(status == 400 and b"deeper" in answer, f"eight (depth 2,560) are refused while patching ({status} {answer[:120]!r})")
alive("and the server still answers")
print("OK")
