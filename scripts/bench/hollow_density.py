"""A cluster of hollow nodes on kube-apiserver+etcd and on `skiff server`: CPU and memory.

Kubemark density style, in one run, with the same load on both control planes:

  1. N hollow nodes (`kubemark --morph=kubelet`, the real kubelet with a fake runtime;
     --nodes, default 50) register and heartbeat (a Node status and a Lease write every 10 s
     each), with kube-controller-manager and kube-scheduler running;
  2. a Deployment of N x --pods-per-node (default 10) pods is created, scheduled and run;
  3. the cluster is held steady for --hold seconds (default 60).

For each control plane it reports the time until every node is Ready and every pod is
available, the CPU seconds its server processes used while the pods came up and during the
steady hold (per minute), and their RSS at the end (VmRSS summed over the process tree:
kube-apiserver and etcd together; skiff alone). Ratios are oriented so that >= 1.0 means Skiff
uses as little or less. kube-controller-manager, kube-scheduler and the hollow nodes are the
same binaries and flags for both and are not counted.

Every component signs in with a static token of its own (--token-auth-file, the same CSV for
both servers): kubelets as system:node:NAME in system:nodes, under the Node authorizer and
RBAC on both sides.

This is a manual benchmark: the Kubernetes binaries are built from a Kubernetes tree and are
not installed in CI. kube-apiserver refuses a loopback advertise address, so run it (as root)
in a network namespace whose lo has another address:

  ip netns add ksk; ip -n ksk link set lo up; ip -n ksk addr add 10.200.0.1/32 dev lo
  ip netns exec ksk python3 scripts/bench/hollow_density.py --bin-dir /path/to/kubernetes/binaries \\
      [--skiff .build/release/skiff] [--nodes 50] [--pods-per-node 10] [--hold 60]

--bin-dir holds kube-apiserver, kube-controller-manager, kube-scheduler and kubemark.
Needs openssl and etcd (Debian's etcd-server). Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kube_apiserver_datastores import Api, Processes, free_port, log, usage, wait_until  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMIN_TOKEN = "skiff-bench-token"


def tokens_file(tmp, nodes):
    """The static tokens of every component: (path, {user: token})."""
    users = {"admin": ("system:masters",), "system:kube-controller-manager": (), "system:kube-scheduler": ()}
    users.update({"system:node:hollow-node-%d" % i: ("system:nodes",) for i in range(nodes)})
    tokens = {}
    with open(tmp + "/tokens.csv", "w") as f:
        for index, (user, groups) in enumerate(users.items()):
            token = ADMIN_TOKEN if user == "admin" else "token-%d-%s" % (index, os.urandom(8).hex())
            tokens[user] = token
            f.write('%s,%s,%d,"%s"\n' % (token, user, index + 1, ",".join(groups)))
    return tmp + "/tokens.csv", tokens


def kubeconfig(path, server, token):
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                   "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
                   "users": [{"name": "u", "user": {"token": token}}],
                   "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}, f)
    return path


def start_kube_apiserver(args, procs, tmp, ports, tokens_csv):
    run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp + "/tls.key", "-out", tmp + "/tls.crt",
        "-days", "1", "-subj", "/CN=kube-apiserver", "-addext", "subjectAltName=IP:" + args.advertise_address)
    run("openssl", "genrsa", "-out", tmp + "/sa.key", "2048")
    client, peer = free_port("127.0.0.1", 23000, ports), free_port("127.0.0.1", 23000, ports)
    etcd = procs.start([args.etcd, "--data-dir", tmp + "/etcd", "--listen-client-urls", "http://127.0.0.1:%d" % client,
                        "--advertise-client-urls", "http://127.0.0.1:%d" % client,
                        "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
                        "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
                        "--initial-cluster", "default=http://127.0.0.1:%d" % peer], tmp + "/etcd.log")
    port = free_port(args.advertise_address, 16443, ports)
    apiserver = procs.start([
        os.path.join(args.bin_dir, "kube-apiserver"), "--etcd-servers=http://127.0.0.1:%d" % client,
        "--advertise-address=" + args.advertise_address, "--bind-address=" + args.advertise_address,
        "--secure-port=%d" % port, "--tls-cert-file=%s/tls.crt" % tmp, "--tls-private-key-file=%s/tls.key" % tmp,
        "--token-auth-file=" + tokens_csv, "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
        "--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file=%s/sa.key" % tmp,
        "--service-account-signing-key-file=%s/sa.key" % tmp, "--service-cluster-ip-range=10.96.0.0/12"],
        tmp + "/kube-apiserver.log")
    api = Api(args.advertise_address, port)
    wait_until("kube-apiserver", lambda: apiserver.poll() is None and api.request("GET", "/readyz")[0] == 200, 90)
    return [etcd, apiserver], api, "https://%s:%d" % (args.advertise_address, port), tmp + "/sa.key", tmp + "/tls.crt"


def start_skiff(args, procs, tmp, ports, tokens_csv):
    port = free_port(args.advertise_address, 16443, ports)
    data = tmp + "/skiff"
    child = procs.start([args.skiff, "server", "--data-dir", data, "--listen", "%s:%d" % (args.advertise_address, port),
                         "--token-auth-file", tokens_csv, "--controllers", "none", "--log-level", "warning"], tmp + "/skiff.log")
    api = Api(args.advertise_address, port)
    wait_until("skiff", lambda: child.poll() is None and api.request("GET", "/readyz")[0] == 200, 90)
    return [child], api, "https://%s:%d" % (args.advertise_address, port), data + "/pki/sa.key", data + "/pki/ca.crt"


def count(api, path, predicate):
    status, body = api.request("GET", path)
    if status != 200:
        return -1
    return sum(1 for item in json.loads(body)["items"] if predicate(item))


def node_ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))


def server_usage(servers):
    cpu, rss = 0.0, 0.0
    for server in servers:
        c, r = usage(server.pid)
        cpu, rss = cpu + c, rss + r
    return cpu, rss


def bench(kind, args, procs, base_tmp, ports):
    tmp = tempfile.mkdtemp(prefix=kind + "-", dir=base_tmp)
    tokens_csv, tokens = tokens_file(tmp, args.nodes)
    start = start_kube_apiserver if kind == "kube-apiserver+etcd" else start_skiff
    servers, api, url, sa_key, root_ca = start(args, procs, tmp, ports, tokens_csv)
    log("%s: serving on %s" % (kind, url))
    components = []
    kcm = kubeconfig(tmp + "/kcm.kubeconfig", url, tokens["system:kube-controller-manager"])
    scheduler = kubeconfig(tmp + "/scheduler.kubeconfig", url, tokens["system:kube-scheduler"])
    components.append(procs.start([os.path.join(args.bin_dir, "kube-controller-manager"), "--kubeconfig=" + kcm,
                                   "--controllers=*", "--use-service-account-credentials", "--service-account-private-key-file=" + sa_key, "--root-ca-file=" + root_ca,
                                   "--leader-elect=false", "--secure-port=0", "--kube-api-qps=200", "--kube-api-burst=400"],
                                  tmp + "/kcm.log"))
    components.append(procs.start([os.path.join(args.bin_dir, "kube-scheduler"), "--kubeconfig=" + scheduler,
                                   "--leader-elect=false", "--secure-port=0", "--kube-api-qps=200", "--kube-api-burst=400"],
                                  tmp + "/scheduler.log"))
    began = time.monotonic()
    for i in range(args.nodes):
        node = kubeconfig("%s/node%d.kubeconfig" % (tmp, i), url, tokens["system:node:hollow-node-%d" % i])
        components.append(procs.start([os.path.join(args.bin_dir, "kubemark"), "--morph=kubelet", "--name=hollow-node-%d" % i,
                                       "--kubeconfig=" + node, "--kubelet-port=%d" % free_port("0.0.0.0", 20000, ports),
                                       "--kubelet-read-only-port=0", "--use-host-image-service=false"],
                                      "%s/node%d.log" % (tmp, i)))
    wait_until("%d Ready nodes" % args.nodes,
               lambda: count(api, "/api/v1/nodes", node_ready) == args.nodes, args.deadline)
    nodes_ready = time.monotonic() - began
    log("%s: %d nodes Ready after %.1f s" % (kind, args.nodes, nodes_ready))
    cpu0, _ = server_usage(servers)
    replicas = args.nodes * args.pods_per_node
    began = time.monotonic()
    status, body = api.request("POST", "/apis/apps/v1/namespaces/default/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "density"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "density"}},
                 "template": {"metadata": {"labels": {"app": "density"}},
                              "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10"}]}}}})
    if status != 201:
        raise RuntimeError("the Deployment was refused: %d %s" % (status, body[:300]))

    def available():
        status, body = api.request("GET", "/apis/apps/v1/namespaces/default/deployments/density")
        return status == 200 and json.loads(body).get("status", {}).get("availableReplicas", 0) == replicas

    wait_until("%d available pods" % replicas, available, args.deadline)
    pods_running = time.monotonic() - began
    cpu1, _ = server_usage(servers)
    log("%s: %d pods available after %.1f s; holding %d s" % (kind, replicas, pods_running, args.hold))
    time.sleep(args.hold)
    cpu2, rss = server_usage(servers)
    running = count(api, "/api/v1/pods", lambda p: p.get("status", {}).get("phase") == "Running")
    for child in reversed(components):
        procs.stop(child)
    for child in reversed(servers):
        procs.stop(child)
    return {"nodes_ready_s": nodes_ready, "pods_running_s": pods_running, "scale_cpu_s": cpu1 - cpu0,
            "hold_cpu_per_min_s": (cpu2 - cpu1) * 60 / args.hold, "rss_mib": rss, "running_pods": running}


def report(args, peer, skiff):
    rows = [("time to every node Ready (s)", "nodes_ready_s"), ("time to every pod available (s)", "pods_running_s"),
            ("server CPU while the pods came up (s)", "scale_cpu_s"),
            ("server CPU per minute, steady heartbeats (s)", "hold_cpu_per_min_s"), ("server RSS at the end (MiB)", "rss_mib")]
    print("\n%d hollow nodes, %d pods (%d per node), %d s hold" % (args.nodes, args.nodes * args.pods_per_node,
                                                                    args.pods_per_node, args.hold))
    print("%-46s %22s %14s %8s" % ("", "kube-apiserver+etcd", "skiff", "ratio"))
    for title, key in rows:
        ratio = peer[key] / skiff[key] if skiff[key] else float("nan")
        print("%-46s %22.1f %14.1f %8.2f" % (title, peer[key], skiff[key], ratio))
    print("%-46s %22d %14d" % ("pods Running at the end", peer["running_pods"], skiff["running_pods"]))
    print("(ratio = kube-apiserver+etcd / skiff: >= 1.0 means Skiff is as fast or uses as little, or less)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", required=True, help="kube-apiserver, kube-controller-manager, kube-scheduler, kubemark")
    parser.add_argument("--skiff", default=os.path.join(REPO, ".build/release/skiff"))
    parser.add_argument("--etcd", default=shutil.which("etcd") or "/usr/bin/etcd")
    parser.add_argument("--advertise-address", default="10.200.0.1")
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--pods-per-node", type=int, default=10)
    parser.add_argument("--hold", type=int, default=60)
    parser.add_argument("--deadline", type=int, default=600, help="seconds allowed for nodes, and for pods, to be ready")
    args = parser.parse_args()
    procs, ports = Processes(), set()
    base_tmp = tempfile.mkdtemp(prefix="hollow-density-")
    try:
        peer = bench("kube-apiserver+etcd", args, procs, base_tmp, ports)
        skiff = bench("skiff", args, procs, base_tmp, ports)
        report(args, peer, skiff)
    finally:
        procs.stop_all()
        log("logs in %s" % base_tmp)


if __name__ == "__main__":
    main()
