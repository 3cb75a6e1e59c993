"""The latency API aggregation adds to a GET, on each API server given, measured in the same
run: sequential GETs of `/version` (answered by the API server itself through its whole handler
chain, without storage, so that the difference is the proxy's), then of an object
served by an aggregated API server this script starts (HTTPS with a test CA made with openssl,
requiring the front proxy's client certificate from the CA each API server publishes in
kube-system/extension-apiserver-authentication), registered on each API server as an
APIService behind a Service and an EndpointSlice. One aggregated server answers all of them,
so its own time is the same for each. The servers' steps alternate, so that the machine's
drift hits them alike.

kube-apiserver refuses loopback addresses in EndpointSlices: run it, the aggregated server
and this script in a network namespace with another address on its `lo` and pass --address.
kube-apiserver needs its front proxy flags (--requestheader-client-ca-file,
--requestheader-allowed-names, --proxy-client-cert-file, --proxy-client-key-file) and
--enable-aggregator-routing=true (there is no kube-proxy).

Usage: aggregation_latency.py NAME=KUBECONFIG [NAME=KUBECONFIG ...] [--address ADDR] [--gets N] [--rounds R]
Prints, per server, the p50/p90/p99 of the local and the aggregated GET and the p50 the proxy
adds, then the first server's times over each other's (below 1: the first is faster).
"""
import json
import os
import sys
import time
import warnings
from http.server import BaseHTTPRequestHandler

from kubernetes import client, config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Tests/APIServerTests/python"))
import webhook_server  # noqa: E402  (the test CA the webhook and aggregation tests use)

warnings.filterwarnings("ignore")
arguments = sys.argv[1:]
options = {"--address": "127.0.0.1", "--gets": "500", "--rounds": "2"}
for flag in list(options):
    if flag in arguments:
        i = arguments.index(flag)
        options[flag] = arguments[i + 1]
        del arguments[i:i + 2]
address, gets, rounds = options["--address"], int(options["--gets"]), int(options["--rounds"])
servers = [a.split("=", 1) for a in arguments]
if not servers or any(len(s) != 2 for s in servers):
    sys.exit(__doc__)

GROUP, VERSION = "bench.skiff.test", "v1"
# A namespace of its own per run: a peer without kube-controller-manager never removes one.
NS = "agg-bench-%d" % os.getpid()
RESOURCES = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP + "/" + VERSION, "resources": [
    {"name": "widgets", "singularName": "widget", "namespaced": True, "kind": "Widget", "verbs": ["get", "list"]}]}
WIDGET = json.dumps({"apiVersion": GROUP + "/" + VERSION, "kind": "Widget",
                     "metadata": {"name": "w", "namespace": NS}, "spec": {"size": 1}}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        body = json.dumps(RESOURCES).encode() if self.path.split("?")[0] == "/apis/%s/%s" % (GROUP, VERSION) else WIDGET
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


clients = {}
trusted = []
for name, kubeconfig in servers:
    configuration = client.Configuration()
    config.load_kube_config(kubeconfig, client_configuration=configuration)
    api = client.ApiClient(configuration)
    clients[name] = api
    trust = client.CoreV1Api(api).read_namespaced_config_map("extension-apiserver-authentication", "kube-system").data
    trusted.append(trust["requestheader-client-ca-file"])

work, ca_bundle, _ = webhook_server.certificates(["DNS:aggregated.%s.svc" % NS, "IP:" + address])
with open(os.path.join(work, "front-proxies.crt"), "w") as f:
    f.write("\n".join(trusted))
server, port = webhook_server.serve(Handler, work, client_ca=os.path.join(work, "front-proxies.crt"), address=address)


def register(api):
    core, registration = client.CoreV1Api(api), client.ApiregistrationV1Api(api)
    core.create_namespace({"metadata": {"name": NS}})
    core.create_namespaced_service(NS, {"metadata": {"name": "aggregated"},
                                        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port}]}})
    client.DiscoveryV1Api(api).create_namespaced_endpoint_slice(NS, {
        "metadata": {"name": "aggregated-1", "labels": {"kubernetes.io/service-name": "aggregated"}},
        "addressType": "IPv4", "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}]})
    registration.create_api_service({"metadata": {"name": VERSION + "." + GROUP}, "spec": {
        "group": GROUP, "version": VERSION, "groupPriorityMinimum": 1000, "versionPriority": 100,
        "service": {"namespace": NS, "name": "aggregated"}, "caBundle": ca_bundle}})
    deadline = time.time() + 60
    while time.time() < deadline:
        status = registration.read_api_service(VERSION + "." + GROUP).status
        if status and any(c.type == "Available" and c.status == "True" for c in status.conditions or []):
            return
        time.sleep(0.2)
    sys.exit("the APIService did not become available")


def unregister(api):
    try:
        client.ApiregistrationV1Api(api).delete_api_service(VERSION + "." + GROUP)
        client.CoreV1Api(api).delete_namespace(NS)
    except client.exceptions.ApiException:
        pass


def timed(api, path, count):
    samples = []
    for _ in range(count):
        params = api.param_serialize(method="GET", resource_path=path, auth_settings=["BearerToken"])
        start = time.perf_counter()
        response = api.call_api(*params)
        response.read()
        samples.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            sys.exit("%s answered %d" % (path, response.status))
    return samples


local_path = "/version"
aggregated_path = "/apis/%s/%s/namespaces/%s/widgets/w" % (GROUP, VERSION, NS)
samples = {name: {"local": [], "aggregated": []} for name, _ in servers}
try:
    for name, _ in servers:
        register(clients[name])
        timed(clients[name], local_path, 50)
        timed(clients[name], aggregated_path, 50)
    for _ in range(rounds):
        for name, _ in servers:
            samples[name]["local"] += timed(clients[name], local_path, gets)
            samples[name]["aggregated"] += timed(clients[name], aggregated_path, gets)
finally:
    for name, _ in servers:
        unregister(clients[name])


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


figures = {}
for name, _ in servers:
    local, aggregated = samples[name]["local"], samples[name]["aggregated"]
    figures[name] = (percentile(local, 0.5), percentile(aggregated, 0.5), percentile(aggregated, 0.5) - percentile(local, 0.5))
    print("%-16s /version p50 %.2f p90 %.2f p99 %.2f ms | aggregated GET p50 %.2f p90 %.2f p99 %.2f ms | added p50 %.2f ms"
          % (name, percentile(local, 0.5), percentile(local, 0.9), percentile(local, 0.99),
             percentile(aggregated, 0.5), percentile(aggregated, 0.9), percentile(aggregated, 0.99), figures[name][2]))
first = servers[0][0]
for name, _ in servers[1:]:
    print("%s / %s (time ratio): aggregated GET p50 %.2f, added p50 %.2f" % (
        first, name, figures[first][1] / figures[name][1], figures[first][2] / figures[name][2] if figures[name][2] > 0 else float("nan")))
