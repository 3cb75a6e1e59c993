"""kube-apiserver on etcd vs on `skiff etcd`: the same REST load against both, in one run.

A real kube-apiserver (1.35) is started twice with identical flags: first backed by etcd
(Debian's 3.4, /usr/bin/etcd), then by `skiff etcd` (one node, SQLite). Each datastore starts
with an empty data directory. Against each, the program measures:

  1. CREATE: h2load POSTs --objects ConfigMaps (generateName) into one namespace; req/s, p99,
     and every non-2xx response counted as a write error (the target is zero).
  2. GET: h2load GETs one ConfigMap --gets times; req/s and p99.
  3. LIST: the --objects ConfigMaps as JSON, --list-reps times each, median ms: once with the
     default resourceVersion="" (a consistent read) and once with resourceVersion=0.
     kube-apiserver serves the consistent read from its watch cache only when the datastore
     reports an etcd version with reliable progress notifications (3.4.31+, 3.5.13+), else
     from the datastore; the table's footer says which path each side took.
  4. WATCH: --watchers concurrent HTTP watch streams (threads, one TLS connection each) while
     a paced writer updates ConfigMaps at --watch-rate writes/s for --watch-seconds, each
     write carrying time.monotonic_ns(); latency per (event, watcher) = arrival - embedded
     time, reported as p50/p99, with the samples received against those expected.
  5. The datastore's RSS (VmRSS, summed over its process tree) at the end, and the CPU
     seconds (utime+stime over its process tree) it used during the whole load.

p99 figures of h2load come from its --log-file (one line per request: start, status,
microseconds until the end of the response), by nearest rank.

The table prints each figure for both datastores and skiff's ratio, oriented so that >= 1.0
means Skiff is as good or better (rates: skiff/etcd; latencies, memory, CPU: etcd/skiff).
The target is every ratio >= 1.0 and no write errors.

This is a manual benchmark: kube-apiserver cannot be installed in CI. It refuses a loopback
advertise address, so run it (as root) in a network namespace whose lo has another address:

  ip netns add ksk; ip -n ksk link set lo up; ip -n ksk addr add 10.200.0.1/32 dev lo
  ip netns exec ksk python3 scripts/bench/kube_apiserver_datastores.py \\
      --kube-apiserver /path/to/kube-apiserver [--skiff .build/release/skiff]

Needs openssl, h2load (nghttp2-client) and etcdctl next to --etcd. Standard library only.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "skiff-bench-token"
NS = "bench"
TLS = ssl._create_unverified_context()
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def free_port(host, start, taken):
    for port in range(start, start + 2000):
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port on %s from %d" % (host, start))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)] if ordered else float("nan")


class Processes:
    """Children this program started, each in its own process group; stopped on exit."""

    def __init__(self):
        self.children = []

    def start(self, argv, log_path):
        with open(log_path, "wb") as out:
            child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(child)
        return child

    def stop(self, child):
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.children.remove(child)

    def stop_all(self):
        for child in reversed(list(self.children)):
            self.stop(child)


def usage(root):
    """(CPU seconds, RSS MiB) of root and its descendants (found by /proc's parent links).

    CPU is utime+stime, plus cutime+cstime for what exited (reaped) children used."""
    stats = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % entry) as f:
                stats[int(entry)] = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            pass
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, fields in stats.items() if int(fields[1]) in frontier]
        tree += frontier
    ticks, kib = 0, 0
    for pid in tree:
        try:
            ticks += sum(int(stats[pid][i]) for i in (11, 12, 13, 14))
            with open("/proc/%d/status" % pid) as f:
                kib += sum(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, KeyError):
            pass
    return ticks / CLK_TCK, kib / 1024


class Api:
    """A small kube-apiserver client: one keep-alive HTTPS connection, bearer token."""

    def __init__(self, host, port, timeout=60):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def request(self, method, path, body=None):
        headers = {"Authorization": "Bearer " + TOKEN, "Accept": "application/json"}
        if body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=TLS)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


def wait_until(what, check, deadline_s):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, http.client.HTTPException, subprocess.SubprocessError):
            pass
        time.sleep(0.25)
    raise RuntimeError("%s: not ready after %d s" % (what, deadline_s))


def make_credentials(tmp, address):
    run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp + "/tls.key",
        "-out", tmp + "/tls.crt", "-days", "1", "-subj", "/CN=kube-apiserver",
        "-addext", "subjectAltName=IP:" + address)
    run("openssl", "genrsa", "-out", tmp + "/sa.key", "2048")
    run("openssl", "rsa", "-in", tmp + "/sa.key", "-pubout", "-out", tmp + "/sa.pub")
    with open(tmp + "/tokens.csv", "w") as f:
        f.write('%s,admin,1,"system:masters"\n' % TOKEN)


def start_datastore(kind, args, procs, tmp, ports):
    client = free_port("127.0.0.1", 23000, ports)
    url = "http://127.0.0.1:%d" % client
    data_dir = tempfile.mkdtemp(prefix=kind + "-", dir=tmp)
    if kind == "etcd":
        peer = "http://127.0.0.1:%d" % free_port("127.0.0.1", 23000, ports)
        argv = [args.etcd, "--data-dir", data_dir, "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "default=" + peer]
    else:
        argv = [args.skiff, "etcd", "--datastore", "sqlite", "--data-dir", data_dir, "--listen-client-urls", url]
    child = procs.start(argv, "%s/%s.log" % (tmp, kind))
    health = [args.etcdctl, "--endpoints=127.0.0.1:%d" % client, "endpoint", "health"]
    env = dict(os.environ, ETCDCTL_API="3")
    wait_until(kind, lambda: child.poll() is None and
               subprocess.run(health, capture_output=True, env=env, timeout=10).returncode == 0, 30)
    if child.poll() is not None:
        raise RuntimeError("%s exited; see %s/%s.log" % (kind, tmp, kind))
    return child, url


def start_apiserver(args, procs, tmp, ports, etcd_url, kind):
    port = free_port(args.advertise_address, 16443, ports)
    argv = [args.kube_apiserver, "--etcd-servers=" + etcd_url,
            "--advertise-address=" + args.advertise_address, "--bind-address=" + args.advertise_address,
            "--secure-port=%d" % port, "--tls-cert-file=%s/tls.crt" % tmp, "--tls-private-key-file=%s/tls.key" % tmp,
            "--token-auth-file=%s/tokens.csv" % tmp, "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-account-key-file=%s/sa.pub" % tmp, "--service-account-signing-key-file=%s/sa.key" % tmp,
            "--service-cluster-ip-range=10.96.0.0/12",
            # The benchmark is one user: neither priority and fairness nor the default
            # in-flight caps should be what limits it (same flags for both datastores).
            "--enable-priority-and-fairness=false",
            "--max-requests-inflight=3000", "--max-mutating-requests-inflight=1000"]
    child = procs.start(argv, "%s/kube-apiserver-%s.log" % (tmp, kind))
    api = Api(args.advertise_address, port)
    wait_until("kube-apiserver", lambda: child.poll() is None and api.request("GET", "/readyz")[0] == 200, 60)
    wait_until("namespace default", lambda: api.request("GET", "/api/v1/namespaces/default")[0] == 200, 30)
    time.sleep(2)  # let the post-start hooks' last bootstrap writes settle
    return child, api, "https://%s:%d" % (args.advertise_address, port)


def h2load(args, tmp, url, count, body=None):
    """Runs h2load; returns (req/s, p99 ms, 2xx count)."""
    log_file = tmp + "/h2load.log"
    argv = ["h2load", "-n", str(count), "-c", str(args.clients), "-m", str(args.streams),
            "-H", "authorization: Bearer " + TOKEN, "-H", "accept: application/json",
            "-H", "content-type: application/json", "--log-file", log_file]
    if body is not None:
        with open(tmp + "/body.json", "w") as f:
            json.dump(body, f)
        argv += ["-d", tmp + "/body.json"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    if "Application protocol: h2" not in out:
        log("h2load did not use HTTP/2:\n" + out)
    rate = float(re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out).group(1))
    ok = int(re.search(r"status codes: (\d+) 2xx", out).group(1))
    with open(log_file) as f:
        latencies = [int(line.split("\t")[2]) / 1000 for line in f if line.strip()]
    os.unlink(log_file)
    return rate, percentile(latencies, 99), ok


def configmap(name=None, data=None, labels=None, generate=False):
    meta = {"generateName": "cm-"} if generate else {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}}


def create_phase(args, tmp, api, base, r):
    path = "/api/v1/namespaces/%s/configmaps" % NS
    body = configmap(data={"payload": "x" * args.value_bytes}, labels={"bench": "create"}, generate=True)
    r["create_rate"], r["create_p99"], ok = h2load(args, tmp, base + path, args.objects, body)
    r["write_errors"] = args.objects - ok
    for _ in range(args.objects - ok):  # top up (untimed) so that LIST sees exactly --objects
        api.request("POST", path, body)


def get_phase(args, tmp, api, base, r):
    # In namespace default, so that namespace NS holds exactly --objects ConfigMaps for LIST.
    status, _ = api.request("POST", "/api/v1/namespaces/default/configmaps", configmap("probe", {"k": "v"}))
    assert status == 201, status
    r["get_rate"], r["get_p99"], ok = h2load(args, tmp, base + "/api/v1/namespaces/default/configmaps/probe", args.gets)
    if ok != args.gets:
        log("GET: %d of %d were not 2xx" % (args.gets - ok, args.gets))


def cache_lists(api):
    """kube-apiserver's count of ConfigMap LISTs served from its watch cache."""
    metrics = api.request("GET", "/metrics")[1].decode()
    found = re.search(r'^apiserver_cache_list_total\{[^}]*resource="configmaps"[^}]*\} (\S+)', metrics, re.M)
    return float(found.group(1)) if found else 0


def list_phase(args, api, r):
    for key, query in (("list_ms", ""), ("list_rv0_ms", "?resourceVersion=0")):
        times, cached = [], cache_lists(api)
        for _ in range(args.list_reps):
            started = time.perf_counter()
            status, payload = api.request("GET", "/api/v1/namespaces/%s/configmaps%s" % (NS, query))
            times.append((time.perf_counter() - started) * 1000)
            items = len(json.loads(payload)["items"]) if status == 200 else -1
            if items != args.objects:
                raise RuntimeError("LIST returned %s items (status %d), expected %d" % (items, status, args.objects))
        r[key] = statistics.median(times)
        r[key + "_cache"] = "cache" if cache_lists(api) - cached >= args.list_reps else "datastore"
        r["list_mib"] = len(payload) / 2 ** 20


def watcher(host, port, path, sockets, ready, arrivals):
    """One watch stream: records (arrival time, raw line); parsing waits for the phase's end."""
    conn, started = http.client.HTTPSConnection(host, port, timeout=60, context=TLS), False
    try:
        conn.request("GET", path, headers={"Authorization": "Bearer " + TOKEN, "Accept": "application/json"})
        sockets.append(conn.sock)
        response = conn.getresponse()
        if response.status != 200:
            log("watch: HTTP %d" % response.status)
            return
        conn.sock.settimeout(None)
        started = True
        ready.release()
        while True:
            line = response.readline()
            if not line:
                break
            arrivals.append((time.monotonic_ns(), line))
    except (OSError, ValueError, http.client.HTTPException):
        pass  # closed by the main thread at the end of the phase
    finally:
        if not started:
            ready.release()  # counted, so that the main thread does not wait for it


def watch_phase(args, api, r, objects=10):
    base = "/api/v1/namespaces/%s/configmaps" % NS
    for i in range(objects):
        api.request("POST", base, configmap("w-%d" % i, {"t": "0"}, {"bench": "watch"}))
    rv = json.loads(api.request("GET", base + "?labelSelector=bench%3Dwatch")[1])["metadata"]["resourceVersion"]
    path = base + "?watch=true&labelSelector=bench%%3Dwatch&resourceVersion=%s" % rv
    sockets, ready, streams = [], threading.Semaphore(0), [[] for _ in range(args.watchers)]
    threads = [threading.Thread(target=watcher, args=(api.host, api.port, path, sockets, ready, streams[i]), daemon=True)
               for i in range(args.watchers)]
    for t in threads:
        t.start()
    for _ in threads:
        if not ready.acquire(timeout=60):
            raise RuntimeError("watchers did not start")
    total, writers, errors = int(args.watch_rate * args.watch_seconds), 4, []
    start = time.monotonic() + 0.5

    def write(w):
        client = Api(api.host, api.port)
        for k in range(w, total, writers):
            delay = start + k / args.watch_rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            name = "w-%d" % (k % objects)
            body = configmap(name, {"t": str(time.monotonic_ns())}, {"bench": "watch"})
            try:
                status, _ = client.request("PUT", "%s/%s" % (base, name), body)
                if status != 200:
                    errors.append(status)
            except (OSError, http.client.HTTPException) as error:
                errors.append(error)

    pool = [threading.Thread(target=write, args=(w,), daemon=True) for w in range(writers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    expected = (total - len(errors)) * args.watchers
    cap, idle, last = time.monotonic() + 15, 0, -1
    while time.monotonic() < cap and idle < 10:  # drain: all arrived, or 2 s without any
        received = sum(len(s) for s in streams)
        if received >= expected:
            break
        idle, last = (idle + 1 if received == last else 0), received
        time.sleep(0.2)
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    for t in threads:
        t.join(5)
    latencies = []
    for stream in streams:
        for arrived, line in stream:
            event = json.loads(line)
            sent = int(event.get("object", {}).get("data", {}).get("t", "0"))
            if event.get("type") == "MODIFIED" and sent:
                latencies.append((arrived - sent) / 1e6)
    r["watch_p50"], r["watch_p99"] = percentile(latencies, 50), percentile(latencies, 99)
    r["watch_received"], r["watch_expected"] = len(latencies), expected
    r["write_errors"] += len(errors)


def bench(kind, args, procs, tmp, ports):
    log("%s: starting" % kind)
    store, url = start_datastore(kind, args, procs, tmp, ports)
    apiserver, api, base = start_apiserver(args, procs, tmp, ports, url, kind)
    status, _ = api.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    assert status == 201, status
    r, cpu_before = {}, usage(store.pid)[0]
    log("%s: CREATE %d" % (kind, args.objects))
    create_phase(args, tmp, api, base, r)
    log("%s: GET %d" % (kind, args.gets))
    get_phase(args, tmp, api, base, r)
    log("%s: LIST x%d" % (kind, args.list_reps))
    list_phase(args, api, r)
    log("%s: WATCH %d watchers" % (kind, args.watchers))
    watch_phase(args, api, r)
    cpu_after, r["rss_mib"] = usage(store.pid)
    r["cpu_s"], r["apiserver_rss_mib"] = cpu_after - cpu_before, usage(apiserver.pid)[1]
    procs.stop(apiserver)
    procs.stop(store)
    log("%s: done" % kind)
    return r


# (label, key, format, True when higher is better); None for the ratio column means no ratio.
FIGURES = [
    ("CREATE req/s", "create_rate", "%.0f", True),
    ("CREATE p99 ms", "create_p99", "%.1f", False),
    ("GET req/s", "get_rate", "%.0f", True),
    ("GET p99 ms", "get_p99", "%.1f", False),
    ("LIST ms (rv=\"\", median)", "list_ms", "%.0f", False),
    ("LIST ms (rv=0, median)", "list_rv0_ms", "%.0f", False),
    ("WATCH p50 ms", "watch_p50", "%.1f", False),
    ("WATCH p99 ms", "watch_p99", "%.1f", False),
    ("WATCH samples received", "watch_received", "%d", True),
    ("WATCH samples expected", "watch_expected", "%d", None),
    ("datastore RSS MiB", "rss_mib", "%.0f", False),
    ("datastore CPU s (load)", "cpu_s", "%.1f", False),
    ("kube-apiserver RSS MiB", "apiserver_rss_mib", "%.0f", False),
    ("write errors", "write_errors", "%d", None),
]


def report(args, etcd, skiff, versions):
    print("kube-apiserver %s on etcd %s vs on skiff etcd %s (sqlite), %s ConfigMaps, h2load %dx%d, "
          "%d watchers x %g writes/s x %g s" % (versions + ("{:,}".format(args.objects), args.clients, args.streams,
                                                args.watchers, args.watch_rate, args.watch_seconds)))
    print("%-26s %12s %12s  %s" % ("figure", "etcd", "skiff", "ratio (>=1 better for skiff)"))
    for label, key, fmt, higher in FIGURES:
        a, b = etcd[key], skiff[key]
        ratio = "-" if higher is None else "%.2f" % ((b / a if higher else a / b) if a and b else float("nan"))
        print("%-26s %12s %12s  %s" % (label, fmt % a, fmt % b, ratio))
    print("LIST payload %.1f MiB; rv=\"\" LISTs served by kube-apiserver's watch cache or the datastore: "
          "etcd %s, skiff %s (kube-apiserver decides by the etcd version the datastore reports)"
          % (etcd["list_mib"], etcd["list_ms_cache"], skiff["list_ms_cache"]))
    print("datastore CPU counts the whole load phase; kube-apiserver RSS is context, not the datastore's")


def version(argv, pattern):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
        return re.search(pattern, out).group(1)
    except (OSError, AttributeError, subprocess.SubprocessError):
        return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kube-apiserver", required=True, help="kube-apiserver binary (1.35)")
    parser.add_argument("--etcd", default="/usr/bin/etcd")
    parser.add_argument("--etcdctl", help="default: etcdctl next to --etcd")
    parser.add_argument("--skiff", default=os.path.join(REPO, ".build/debug/skiff"))
    parser.add_argument("--advertise-address", default="10.200.0.1")
    parser.add_argument("--objects", type=int, default=10000, help="ConfigMaps created (and then listed)")
    parser.add_argument("--gets", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=10, help="h2load -c")
    parser.add_argument("--streams", type=int, default=10, help="h2load -m")
    parser.add_argument("--list-reps", type=int, default=5)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--watch-rate", type=float, default=50, help="writes/s during the watch phase")
    parser.add_argument("--watch-seconds", type=float, default=10)
    parser.add_argument("--value-bytes", type=int, default=256, help="size of each created ConfigMap's data")
    args = parser.parse_args()
    args.etcdctl = args.etcdctl or os.path.join(os.path.dirname(args.etcd), "etcdctl")
    try:
        with socket.socket() as s:
            s.bind((args.advertise_address, 0))
    except OSError:
        sys.exit("cannot bind %s: run inside a network namespace whose lo carries it (see --help)" % args.advertise_address)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    versions = (version([args.kube_apiserver, "--version"], r"v(\S+)"), version([args.etcd, "--version"], r"Version: (\S+)"),
                version([args.skiff, "--version"], r"(\S+)"))
    procs, tmp, ports = Processes(), tempfile.mkdtemp(prefix="kube-bench-"), set()
    try:
        make_credentials(tmp, args.advertise_address)
        etcd = bench("etcd", args, procs, tmp, ports)
        skiff = bench("skiff", args, procs, tmp, ports)
        report(args, etcd, skiff, versions)
    except RuntimeError:
        for name in sorted(n for n in os.listdir(tmp) if n.endswith(".log")):  # the logs die with tmp
            with open(os.path.join(tmp, name), errors="replace") as f:
                log("last lines of %s:\n%s" % (name, "".join(f.readlines()[-15:])))
        raise
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
