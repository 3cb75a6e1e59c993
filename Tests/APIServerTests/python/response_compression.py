"""gzip of large answers, as kube-apiserver's APIResponseCompression: a LIST of more than
128 KiB is compressed when the client accepts gzip (JSON and protobuf), and nothing else is:
small answers, clients that do not accept it (or give it weight 0), watch streams. kubectl
(Go's transport asks for gzip by itself) reads the compressed list.

Usage: response_compression.py SERVER_URL DATA_DIR KUBECTL
"""
import gzip
import json
import ssl
import subprocess
import sys
import urllib.request

from checks import check

url, data_dir, kubectl = sys.argv[1:4]
context = ssl.create_default_context(cafile=data_dir + "/pki/ca.crt")
context.load_cert_chain(data_dir + "/pki/admin.crt", data_dir + "/pki/admin.key")
NS = "/api/v1/namespaces/squeeze"
COUNT = 400


def call(method, path, body=None, headers=None):
    """(status, headers, raw body bytes as sent on the wire) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return response.status, response.headers, response.read()


call("POST", "/api/v1/namespaces", {"metadata": {"name": "squeeze"}})
for i in range(COUNT):
    call("POST", NS + "/configmaps", {"metadata": {"name": "cm-%03d" % i}, "data": {"payload": "x%03d" % i * 128}})

status, headers, plain = call("GET", NS + "/configmaps", headers={"Accept": "application/json"})
check(status == 200 and headers.get("Content-Encoding") is None, "a LIST without Accept-Encoding is not compressed")
check(len(plain) > 128 * 1024, "the LIST is over the 128 KiB threshold (%d bytes)" % len(plain))

status, headers, wire = call("GET", NS + "/configmaps", headers={"Accept": "application/json", "Accept-Encoding": "gzip"})
check(headers.get("Content-Encoding") == "gzip", "a LIST with Accept-Encoding: gzip is gzip-encoded")
check("Accept-Encoding" in (headers.get("Vary") or ""), "Vary names Accept-Encoding")
check(wire[:2] == b"\x1f\x8b" and len(wire) * 5 < len(plain), "the body is a gzip member, %d of %d bytes" % (len(wire), len(plain)))
items = json.loads(gzip.decompress(wire))["items"]
# (the namespace also holds the published kube-root-ca.crt)
names = [i["metadata"]["name"] for i in items if i["metadata"]["name"].startswith("cm-")]
check(names == ["cm-%03d" % i for i in range(COUNT)] and items == json.loads(plain)["items"], "it decompresses to the whole list")

status, headers, wire = call("GET", NS + "/configmaps",
                             headers={"Accept": "application/vnd.kubernetes.protobuf", "Accept-Encoding": "deflate, gzip"})
check(headers.get("Content-Encoding") == "gzip" and gzip.decompress(wire)[:4] == b"k8s\x00",
      "a protobuf LIST is compressed too, among several codings")

status, headers, wire = call("GET", NS + "/configmaps", headers={"Accept": "application/json", "Accept-Encoding": "gzip;q=0"})
check(headers.get("Content-Encoding") is None and json.loads(wire)["items"] == items, "gzip with weight 0 is not used")

status, headers, wire = call("GET", NS + "/configmaps/cm-001", headers={"Accept": "application/json", "Accept-Encoding": "gzip"})
check(headers.get("Content-Encoding") is None and json.loads(wire)["metadata"]["name"] == "cm-001",
      "a small answer is not compressed")

status, headers, wire = call("GET", NS + "/configmaps?watch=true&timeoutSeconds=1",
                             headers={"Accept": "application/json", "Accept-Encoding": "gzip"})
lines = [json.loads(line) for line in wire.splitlines() if line]
check(headers.get("Content-Encoding") is None and len(lines) == len(items), "a watch stream is not compressed (%d events)" % len(lines))

kubeconfig = data_dir + "/admin.kubeconfig"
out = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "-n", "squeeze", "get", "configmaps", "-o", "name"],
                     capture_output=True, text=True, timeout=60)
check(out.returncode == 0 and len(out.stdout.split()) == len(items), "kubectl reads the compressed list: %s" % out.stderr[-300:])
print("OK")
