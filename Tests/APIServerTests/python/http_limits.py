"""The listener's limits, from outside, against a running `skiff server`: HTTP/1.1 framing as
RFC 9112 requires it, header limits on HTTP/1.1 and HTTP/2 (an HPACK bomb included), the idle,
header, body and handshake timeouts, the connection cap, and the figures issue 20 asks for
(1,000 idle connections closed within the idle timeout; kubectl latency beside 1,000 slow
clients).

Usage: http_limits.py MODE SERVER_URL DATA_DIR SERVER_PID [KUBECTL KUBECONFIG]
  MODE timeouts: the server runs with --http-idle-timeout 3s --http-read-header-timeout 3s
                 --http-request-read-timeout 4s
  MODE crowd:    --http-idle-timeout 15s --http-read-header-timeout 15s (KUBECTL and KUBECONFIG given)
  MODE cap:      --max-connections 20
Prints one line per check (and the figures) and exits non-zero at the first failure.
"""
import json
import re
import resource
import selectors
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

import h2raw
from checks import check, eventually

mode, url, data_dir, server_pid = sys.argv[1:5]
host, port = urllib.parse.urlparse(url).hostname, urllib.parse.urlparse(url).port
CA, CERT, KEY = data_dir + "/pki/ca.crt", data_dir + "/pki/admin.crt", data_dir + "/pki/admin.key"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib():
    with open(f"/proc/{server_pid}/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1])


def tls(alpn="http/1.1", timeout=10):
    context = ssl.create_default_context(cafile=CA)
    context.load_cert_chain(CERT, KEY)
    context.set_alpn_protocols([alpn])
    raw = socket.create_connection((host, port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname=host)


def exchange(raw, timeout=10):
    """Sends raw bytes on a new HTTP/1.1 connection; returns everything read until it closes."""
    sock = tls()
    sock.sendall(raw)
    sock.settimeout(timeout)
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError, ssl.SSLError):
        pass
    sock.close()
    return out


def parse(response):
    """(status code, headers text, body JSON or None) of one HTTP/1.1 response."""
    head, _, body = response.partition(b"\r\n\r\n")
    code = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else None
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    return code, head.decode(errors="replace").lower(), document


def request(method, path, body=None, headers=""):
    data = body or b""
    raw = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}"
           f"Content-Length: {len(data)}\r\n\r\n").encode() + data
    return parse(exchange(raw))


def is_status(document, code):
    return isinstance(document, dict) and document.get("kind") == "Status" and document.get("code") == code


def seconds_until_closed(sock, limit):
    """How long until the server closes `sock` (reading and discarding what it sends)."""
    start = time.time()
    sock.settimeout(limit)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return None
    except (ConnectionResetError, ssl.SSLError, OSError):
        pass
    return time.time() - start


def metric(name, labels=""):
    text = exchange(f"GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    match = re.search(rb"^" + re.escape((name + labels).encode()) + rb" (\d+)", text, re.M)
    return int(match.group(1)) if match else None


def wait_for(condition, timeout, message):
    check(eventually(condition, timeout), message)


CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def framing_checks():
    body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"framed"}}'
    chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    cases = [
        ("Transfer-Encoding: gzip, chunked", 501, chunked),
        ("Transfer-Encoding: gzip", 400, body),
        ("Transfer-Encoding: chunked, gzip", 400, body),
        ("Transfer-Encoding: chunked\r\nContent-Length: %d" % len(chunked), 400, chunked),
        ("Content-Length: 5\r\nContent-Length: 6", 400, body),
        ("Content-Length: -1", 400, body),
        ("Content-Length: 1e3", 400, body),
    ]
    for header, code, payload in cases:
        raw = (f"POST {CONFIGMAPS} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{header}\r\n\r\n").encode() + payload
        got, head, document = parse(exchange(raw))
        check(got == code and is_status(document, code) and "connection: close" in head,
              f"{header!r}: {code} with a Status, and the connection closed (got {got} {document})")
    raw = (f"POST {CONFIGMAPS} HTTP/1.0\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n").encode() + chunked
    got, _, document = parse(exchange(raw))
    check(got == 400 and is_status(document, 400), f"Transfer-Encoding in HTTP/1.0: 400 (got {got})")
    got, _, _ = request("GET", CONFIGMAPS + "/framed")
    check(got == 404, f"no refused request stored its object (GET framed: {got})")
    # Plain chunked is fine.
    raw = (f"POST {CONFIGMAPS} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\n"
           f"Transfer-Encoding: chunked\r\n\r\n").encode() + chunked
    got, _, document = parse(exchange(raw))
    check(got == 201, f"Transfer-Encoding: chunked alone is read (created: {got})")
    request("DELETE", CONFIGMAPS + "/framed")


def header_checks():
    many = "".join(f"X-Field-{i}: 1\r\n" for i in range(501))
    got, _, document = request("GET", "/api", headers=many)
    check(got == 431 and is_status(document, 431), f"HTTP/1.1 with 501 header fields: 431 with a Status (got {got})")
    big = "X-Big: " + "a" * (70 * 1024) + "\r\n"
    got, _, document = request("GET", "/api", headers=big)
    check(got == 431 and is_status(document, 431), f"HTTP/1.1 with a 70 KiB header: 431 with a Status (got {got})")
    huge = "X-Huge: " + "a" * (100 * 1024) + "\r\n"
    got, _, document = request("GET", "/api", headers=huge)
    check(got == 431 and is_status(document, 431), f"HTTP/1.1 header past the parser's 80 KiB: 431 with a Status (got {got})")
    got, _, document = parse(exchange(b"GARBAGE\x00\x01 / HTTP/9.9\r\n\r\n"))
    check(got == 400 and is_status(document, 400), f"an unparsable request line: 400 with a Status (got {got})")

    connection = h2raw.Connection(host, port, CA, CERT, KEY).settle()
    block = h2raw.header_block("GET", "/api", [(f"x-field-{i}", "1") for i in range(501)])
    connection.send(h2raw.frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1, block))
    _, body, how = connection.response(1)
    check(how == "end" and is_status(json.loads(body or b"null"), 431), f"HTTP/2 with 501 header fields: 431 with a Status ({how})")
    connection.close()

    # An HPACK bomb: one 4 KB field in the dynamic table, then 4,000 one-byte references to it
    # (16 MB decoded from 8 KB sent), before and after the SETTINGS exchange.
    before = rss_kib()
    for acknowledge in (False, True):
        for _ in range(10):
            connection = h2raw.Connection(host, port, CA, CERT, KEY, ack_settings=acknowledge)
            if acknowledge:
                connection.settle()
            block = h2raw.header_block("GET", "/api") + h2raw.literal("x-big", "a" * 4000, indexing=True) + h2raw.indexed(62) * 4000
            frames, first = b"", True
            for offset in range(0, len(block), 16384):
                last = offset + 16384 >= len(block)
                frames += h2raw.frame(h2raw.HEADERS if first else h2raw.CONTINUATION,
                                      (h2raw.END_HEADERS if last else 0) | (h2raw.END_STREAM if first else 0), 1,
                                      block[offset:offset + 16384])
                first = False
            connection.send(frames)
            status, _, how = connection.response(1)
            check(how in ("closed", "goaway", "reset") and status is None,
                  f"HPACK bomb (settings acknowledged: {acknowledge}) refused without an answer ({how})")
            connection.close()
    grown = rss_kib() - before
    check(grown < 20 * 1024, f"20 HPACK bombs grew the server by {grown} KiB (< 20 MiB)")
    got, _, _ = request("GET", "/api")
    check(got == 200, "the server still answers")


def timeout_checks():
    sock = tls()
    took = seconds_until_closed(sock, 15)
    check(took is not None and 2.5 <= took <= 8, f"a new HTTP/1.1 connection that sends nothing is closed at the header timeout (3 s): {took}")

    sock = tls()
    sock.sendall(f"GET /api HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    sock.settimeout(5)
    answer = b""
    while b"APIVersions" not in answer:
        answer += sock.recv(65536)
    took = seconds_until_closed(sock, 15)
    check(took is not None and 2.5 <= took <= 8, f"a kept-alive HTTP/1.1 connection is closed at the idle timeout (3 s): {took}")

    sock = tls()
    start = time.time()
    closed_at = None
    sock.settimeout(0.5)
    for byte in f"GET /api HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode() + b"a" * 40:
        try:
            sock.sendall(bytes([byte]))
            if sock.recv(1) == b"":
                closed_at = time.time() - start
                break
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            closed_at = time.time() - start
            break
    check(closed_at is not None and closed_at <= 8, f"a header sent one byte every 0.5 s is cut at the header timeout: {closed_at}")

    sock = tls()
    sock.sendall(f"POST {CONFIGMAPS} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{".encode())
    took = seconds_until_closed(sock, 15)
    check(took is not None and 3.5 <= took <= 10, f"a body that stops arriving is cut at the request read timeout (4 s): {took}")

    raw = socket.create_connection((host, port))
    took = seconds_until_closed(raw, 15)
    check(took is not None and 2.5 <= took <= 8, f"a connection that never starts TLS is closed at the header timeout: {took}")

    connection = h2raw.Connection(host, port, CA, CERT, KEY).settle()
    start = time.time()
    connection.send(h2raw.frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1, h2raw.header_block("GET", "/api")))
    status, _, how = connection.response(1)
    check(how == "end", "an HTTP/2 request is answered")
    goaway = None
    while True:
        try:
            got = connection.read_frame(time.time() + 15)
        except TimeoutError:
            break
        if got is None:
            break
        if got[0] == h2raw.GOAWAY and goaway is None:
            goaway = time.time() - start
    closed = time.time() - start
    check(goaway is not None and 2.5 <= goaway <= 8 and closed <= 10,
          f"an idle HTTP/2 connection gets GOAWAY at the idle timeout and is closed (GOAWAY {goaway}, closed {closed})")

    silent = h2raw.Connection(host, port, CA, CERT, KEY, ack_settings=False)
    took = seconds_until_closed(silent.sock, 20)
    check(took is not None and took <= 14, f"an idle HTTP/2 client that never answers is closed too: {took}")

    for reason in ("idle", "handshake_timeout", "header_timeout", "body_timeout", "protocol_error"):
        count = metric("skiff_http_connections_closed_total", f'{{reason="{reason}"}}')
        check(count is not None and count >= 1, f"/metrics counts connections closed by {reason}: {count}")
    wait_for(lambda: (metric("skiff_http_open_connections") or 99) <= 1, 10, "every closed connection is counted out")


def crowd_checks(kubectl, kubeconfig):
    """1,000 idle connections (half HTTP/1.1, half HTTP/2), all closed by the server within
    its idle timeout; then kubectl's latency while 1,000 slow clients hold connections."""
    base_rss = rss_kib()
    opened = {}
    selector = selectors.DefaultSelector()
    start = time.time()
    for i in range(1000):
        if i % 2:
            sock = h2raw.Connection(host, port, CA, CERT, KEY).settle().sock
        else:
            sock = tls()
            sock.sendall(f"GET /api HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        sock.setblocking(False)
        opened[sock] = time.time()
        selector.register(sock, selectors.EVENT_READ)
    open_time = time.time() - start
    peak_open = metric("skiff_http_open_connections")
    peak_rss = rss_kib()
    print(f"figure: opened 1000 idle connections in {open_time:.1f} s; server counts {peak_open} open; RSS {base_rss} -> {peak_rss} KiB")
    closed_after = []
    buffers = {}
    deadline = time.time() + 40
    while opened and time.time() < deadline:
        for key, _ in selector.select(timeout=1):
            sock = key.fileobj
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        raise ConnectionResetError()
                    if sock.selected_alpn_protocol() == "h2":
                        # Answer the PING that follows the idle GOAWAY, as any HTTP/2 client does.
                        buffers[sock] = buffers.get(sock, b"") + data
                        while len(buffers[sock]) >= 9:
                            length = int.from_bytes(buffers[sock][:3], "big")
                            if len(buffers[sock]) < 9 + length:
                                break
                            kind, flags, payload = buffers[sock][3], buffers[sock][4], buffers[sock][9:9 + length]
                            buffers[sock] = buffers[sock][9 + length:]
                            if kind == h2raw.PING and not flags & h2raw.ACK:
                                sock.setblocking(True)
                                sock.sendall(h2raw.frame(h2raw.PING, h2raw.ACK, 0, payload))
                                sock.setblocking(False)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (ConnectionResetError, ssl.SSLError, OSError):
                closed_after.append(time.time() - opened.pop(sock))
                selector.unregister(sock)
                sock.close()
    check(not opened, f"all 1000 idle connections were closed by the server ({len(opened)} still open)")
    print(f"figure: idle connections closed after {min(closed_after):.1f}-{max(closed_after):.1f} s "
          f"(median {statistics.median(closed_after):.1f} s; idle timeout 15 s)")
    check(max(closed_after) <= 15 + 5, f"each within the idle timeout: max {max(closed_after):.1f} s")
    wait_for(lambda: (metric("skiff_http_open_connections") or 99) <= 1, 15, "the server counts them all out")
    after_rss = rss_kib()
    print(f"figure: RSS after they closed: {after_rss} KiB")

    def kubectl_latencies(count):
        out = []
        for _ in range(count):
            begin = time.time()
            result = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "get", "namespaces", "-o", "name"],
                                    capture_output=True, text=True, timeout=60)
            out.append(time.time() - begin)
            check(result.returncode == 0 and "namespace/default" in result.stdout, f"kubectl get namespaces works: {result.stderr[:200]}")
        return out

    quiet = kubectl_latencies(10)
    stop = threading.Event()
    slow = []
    lock = threading.Lock()

    def slow_clients():
        """Keeps 1,000 connections trickling a header, one byte per connection every 2 s,
        reopening each one the server cuts at the header timeout."""
        pending = []
        while not stop.is_set():
            while len(pending) < 1000 and not stop.is_set():
                try:
                    sock = tls()
                    sock.sendall(f"GET /api HTTP/1.1\r\nHost: {host}\r\n".encode())
                    pending.append(sock)
                except OSError:
                    break
            with lock:
                slow.append(len(pending))
            for sock in list(pending):
                try:
                    sock.sendall(b"X-Slow: a\r\n")
                except OSError:
                    pending.remove(sock)
                    sock.close()
            stop.wait(2)
        for sock in pending:
            sock.close()

    thread = threading.Thread(target=slow_clients, daemon=True)
    thread.start()
    wait_for(lambda: bool(slow) and slow[-1] >= 1000, 120, "1,000 slow clients connected")
    loaded = kubectl_latencies(10)
    stop.set()
    thread.join(30)
    print(f"figure: kubectl get namespaces: median {statistics.median(quiet) * 1000:.0f} ms alone, "
          f"{statistics.median(loaded) * 1000:.0f} ms (max {max(loaded) * 1000:.0f} ms) beside 1,000 slow clients")
    # The server gives freed memory back (every 15 s).
    begin = time.time()
    wait_for(lambda: rss_kib() <= base_rss * 1.5, 45, f"RSS back within 50% of its start ({base_rss} KiB): {rss_kib()} KiB")
    print(f"figure: RSS {rss_kib()} KiB {time.time() - begin:.0f} s after the slow clients left (start: {base_rss} KiB)")


def cap_checks():
    held = [tls() for _ in range(20)]
    check(len(held) == 20, "20 connections are accepted")
    try:
        extra = tls(timeout=5)
        extra.sendall(f"GET /api HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        refused = extra.recv(100) == b""
    except (ConnectionResetError, ssl.SSLError, OSError):
        refused = True
    check(refused, "the 21st connection is closed at once")
    refused_count = metric_with(held[0], "skiff_http_connections_total", '{result="refused"}')
    check(refused_count is not None and refused_count >= 1, f"/metrics counts the refused connection: {refused_count}")
    for sock in held:
        sock.close()
    wait_for(lambda: (metric("skiff_http_open_connections") or 99) <= 1, 10, "the closed connections are counted out")
    got, _, _ = request("GET", "/api")
    check(got == 200, "a new connection is served once others closed")


def metric_with(sock, name, labels):
    """Reads a metric over an already open connection (when no new one may be opened)."""
    sock.sendall(f"GET /metrics HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    sock.settimeout(10)
    text = b""
    while b"skiff_http_requests_refused_total" not in text:
        chunk = sock.recv(65536)
        if not chunk:
            break
        text += chunk
    match = re.search(rb"^" + re.escape((name + labels).encode()) + rb" (\d+)", text, re.M)
    return int(match.group(1)) if match else None


if mode == "timeouts":
    framing_checks()
    header_checks()
    timeout_checks()
elif mode == "crowd":
    crowd_checks(sys.argv[5], sys.argv[6])
elif mode == "cap":
    cap_checks()
print("OK")
