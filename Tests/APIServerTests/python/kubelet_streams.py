"""kubectl logs, exec, attach, port-forward and the proxies through Skiff to a fake kubelet.

Usage: kubelet_streams.py ADMIN_KUBECONFIG VIEWER_KUBECONFIG CA_FILE KUBECTL...

A node reports the fake kubelet's address; pods are bound to it. Every kubectl runs exec
and port-forward over its default WebSocket protocols (which Skiff translates to SPDY for
the kubelet) and over SPDY (which Skiff relays as it is). Prints OK at the end.
"""
import os
import re
import socket
import subprocess
import sys
import time

from kubernetes import client, config

from fake_kubelet import FakeKubelet

admin, viewer, ca_file = sys.argv[1:4]
kubectls = sys.argv[4:]
fake = FakeKubelet(ca_file)
api = client.CoreV1Api(config.new_client_from_config(admin))
rbac = client.RbacAuthorizationV1Api(config.new_client_from_config(admin))

api.create_node({"metadata": {"name": "fake-node"}})
api.patch_node_status("fake-node", {"status": {
    "addresses": [{"type": "Hostname", "address": "fake-node"}, {"type": "InternalIP", "address": "127.0.0.1"}],
    "daemonEndpoints": {"kubeletEndpoint": {"Port": fake.port}},
}})


def pod(name, containers, node="fake-node"):
    spec = {"containers": [{"name": c, "image": "busybox", "ports": [{"containerPort": fake.pod_port}]} for c in containers]}
    if node:
        spec["nodeName"] = node
    api.create_namespaced_pod("default", {"metadata": {"name": name}, "spec": spec})
    api.patch_namespaced_pod_status(name, "default", {"status": {
        "phase": "Running", "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]}})


pod("web", ["app"])
pod("two", ["a", "b"])
pod("unbound", ["app"], node=None)
api.create_namespaced_service("default", {"metadata": {"name": "web"},
                                          "spec": {"ports": [{"port": 80, "targetPort": fake.pod_port}]}})
api.create_namespaced_endpoints("default", {"metadata": {"name": "web"}, "subsets": [
    {"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": fake.pod_port}]}]})
rbac.create_namespaced_role_binding("default", {
    "metadata": {"name": "viewer"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "viewer"}]})

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what, flush=True)


def run(kubectl, *args, kubeconfig=admin, env=None, stdin=None, timeout=60):
    merged = dict(os.environ)
    merged.update(env or {})
    return subprocess.run([kubectl, "--kubeconfig", kubeconfig] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=merged)


def port_forward(kubectl, env):
    """Forwards a local port to the pod's 8080 and sends a line through it."""
    merged = dict(os.environ)
    merged.update(env)
    process = subprocess.Popen([kubectl, "--kubeconfig", admin, "port-forward", "pod/web", ":8080"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=merged)
    try:
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            match = re.search(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", line)
            if match:
                break
            if not line and process.poll() is not None:
                return "port-forward exited: " + process.stderr.read()
        else:
            return "no forwarding line: " + line
        replies = []
        for word in (b"hello through the tunnel", b"second connection"):
            with socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=20) as conn:
                conn.sendall(word)
                received = b""
                while len(received) < len(word):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    received += chunk
                replies.append(received)
        return replies
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


for kubectl in kubectls:
    label = kubectl
    out = run(kubectl, "logs", "web")
    check(out.returncode == 0 and "log of default/web/app caller=kube-apiserver-kubelet-client" in out.stdout,
          "%s logs: %r %r" % (label, out.stdout, out.stderr))
    out = run(kubectl, "logs", "web", "--tail=5", "--timestamps", "--since=10m")
    check("tailLines=5" in out.stdout and "timestamps=true" in out.stdout and "sinceSeconds=600" in out.stdout,
          "%s logs options: %r %r" % (label, out.stdout, out.stderr))
    out = run(kubectl, "logs", "-f", "web")
    check(out.returncode == 0 and "follow 2" in out.stdout, "%s logs -f: %r %r" % (label, out.stdout, out.stderr))
    # kubectl picks a container itself; the server's own answer is asked for directly.
    out = run(kubectl, "get", "--raw", "/api/v1/namespaces/default/pods/two/log")
    check(out.returncode != 0 and "a container name must be specified for pod two, choose one of: [a b]" in out.stderr,
          "%s logs without a container: %r" % (label, out.stderr))
    out = run(kubectl, "logs", "web", "-c", "nope")
    check(out.returncode != 0 and "container nope is not valid for pod web" in out.stderr, "%s logs -c nope: %r" % (label, out.stderr))
    out = run(kubectl, "logs", "unbound")
    check(out.returncode != 0 and "pod unbound does not have a host assigned" in out.stderr, "%s logs unbound: %r" % (label, out.stderr))
    out = run(kubectl, "logs", "web", kubeconfig=viewer)
    check(out.returncode == 0 and "caller=kube-apiserver-kubelet-client" in out.stdout, "%s viewer logs: %r" % (label, out.stderr))

    for protocol, env in (("websocket", {}), ("spdy", {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"})):
        what = "%s exec over %s" % (label, protocol)
        out = run(kubectl, "exec", "web", "--", "echo", "hello", "world", env=env)
        check(out.returncode == 0 and out.stdout == "hello world\n", "%s echo: %r %r" % (what, out.stdout, out.stderr))
        text = "line one\nline two\n" + "x" * 200000 + "\n"
        out = run(kubectl, "exec", "-i", "web", "--", "cat", env=env, stdin=text)
        check(out.returncode == 0 and out.stdout == text, "%s cat: %d bytes back of %d, %r" % (what, len(out.stdout), len(text), out.stderr[-300:]))
        out = run(kubectl, "exec", "web", "--", "fail", env=env)
        check(out.returncode == 3 and "failing on purpose" in out.stderr, "%s fail: %d %r" % (what, out.returncode, out.stderr))
        out = run(kubectl, "exec", "web", "--", "whoami", env=env)
        check(out.stdout == "kube-apiserver-kubelet-client\n", "%s whoami: %r %r" % (what, out.stdout, out.stderr))
        out = run(kubectl, "exec", "web", "--", "echo", "x", env=env, kubeconfig=viewer)
        check(out.returncode != 0 and "cannot create resource \"pods/exec\"" in out.stderr, "%s as viewer: %r" % (what, out.stderr))
        out = run(kubectl, "attach", "web", "-c", "app", env=env)
        check("attached" in out.stdout, "%s attach: %r %r" % (what, out.stdout, out.stderr))

    debugger = "dbg%d" % kubectls.index(kubectl)
    out = run(kubectl, "debug", "web", "--image=busybox", "--container=" + debugger, "--", "true")
    names = [c.name for c in (api.read_namespaced_pod("web", "default").spec.ephemeral_containers or [])]
    check(out.returncode == 0 and debugger in names, "%s debug: %r %r %r" % (label, names, out.stdout, out.stderr))

    for protocol, env in (("websocket", {}), ("spdy", {"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"})):
        replies = port_forward(kubectl, env)
        check(replies == [b"HELLO THROUGH THE TUNNEL", b"SECOND CONNECTION"], "%s port-forward over %s: %r" % (label, protocol, replies))

    out = run(kubectl, "get", "--raw", "/api/v1/nodes/fake-node/proxy/healthz?verbose=1")
    check(out.stdout == "kubelet: GET /healthz?verbose=1 caller=kube-apiserver-kubelet-client", "%s nodes/proxy: %r %r" % (label, out.stdout, out.stderr))
    out = run(kubectl, "get", "--raw", "/api/v1/namespaces/default/pods/web/proxy/some/path?q=1&r=two")
    check(out.stdout == "pod: GET /some/path?q=1&r=two body= auth=-", "%s pods/proxy: %r %r" % (label, out.stdout, out.stderr))
    out = run(kubectl, "get", "--raw", "/api/v1/namespaces/default/services/web/proxy/")
    check(out.stdout == "pod: GET / body= auth=-", "%s services/proxy: %r %r" % (label, out.stdout, out.stderr))
    out = run(kubectl, "get", "--raw", "/api/v1/namespaces/default/services/web:nope/proxy/")
    check(out.returncode != 0 and "no service port" in out.stderr, "%s services/proxy bad port: %r" % (label, out.stderr))

# Hostile WebSocket clients: an unmasked frame and a frame claiming 1 TiB each end their own
# connection only; a request without an upgrade is a 400.
def raw_exec_socket():
    import base64
    import ssl
    import tempfile
    import yaml
    with open(admin) as f:
        cfg = yaml.safe_load(f)
    user = cfg["users"][0]["user"]
    server = cfg["clusters"][0]["cluster"]["server"]
    directory = tempfile.mkdtemp()
    for name, key in (("c.crt", "client-certificate-data"), ("c.key", "client-key-data")):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(base64.b64decode(user[key]))
    context = ssl.create_default_context(cafile=ca_file)
    context.load_cert_chain(os.path.join(directory, "c.crt"), os.path.join(directory, "c.key"))
    host, port = server.replace("https://", "").rsplit(":", 1)
    return None, context.wrap_socket(socket.create_connection((host, int(port)), timeout=20), server_hostname=host)


def hostile(frame, upgrade=True):
    _, conn = raw_exec_socket()
    headers = ("GET /api/v1/namespaces/default/pods/web/exec?command=cat&stdin=true&stdout=true HTTP/1.1\r\n"
               "Host: skiff\r\n")
    if upgrade:
        headers += ("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n")
    conn.sendall((headers + "\r\n").encode())
    answer = conn.recv(4096)
    if not upgrade:
        # The whole answer: its head, then as many bytes as it says.
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < int(
                re.search(rb"content-length: (\d+)", answer.split(b"\r\n\r\n", 1)[0], re.I).group(1)):
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
        conn.close()
        return answer
    if not answer.startswith(b"HTTP/1.1 101"):
        return answer
    conn.sendall(frame)
    received = b""
    try:
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            received += chunk
    except (OSError, socket.timeout) as error:
        received += b"<" + str(error).encode() + b">"
    conn.close()
    return received


unmasked = hostile(bytes([0x82, 0x02, 0x00, 0x41]))
check(b"<" not in unmasked, "an unmasked frame did not end the connection: %r" % unmasked)
huge = hostile(bytes([0x82, 0xff]) + (1 << 40).to_bytes(8, "big") + b"\x01\x02\x03\x04")
check(b"\x88\x02\x03\xf1" in huge, "a 1 TiB frame was not closed with 1009: %r" % huge)
plain = hostile(b"", upgrade=False)
check(plain.startswith(b"HTTP/1.1 400") and b"Upgrade request required" in plain, "exec without an upgrade: %r" % plain[:300])
out = run(kubectls[0], "exec", "web", "--", "echo", "still", "here")
check(out.stdout == "still here\n", "exec after the hostile clients: %r %r" % (out.stdout, out.stderr))

# Every connection to the kubelet presented Skiff's kubelet-client certificate.
callers = {r[3] for r in fake.requests if len(r) == 4}
check(callers == {"kube-apiserver-kubelet-client"}, "kubelet callers: %r" % callers)
refused = [r for r in fake.requests if r[0] == "refused"]
check(not refused, "TLS refusals at the kubelet: %r" % refused)
fake.stop()
if failures:
    print("%d failures" % len(failures))
    sys.exit(1)
print("OK")
