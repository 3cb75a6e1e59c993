"""A small fake kubelet for the tests: an HTTPS server with the kubelet's streaming paths.

It asks for a client certificate signed by the cluster CA (as a kubelet started with
--client-ca-file does) and answers:
  GET  /containerLogs/NS/POD/CONTAINER   a log naming the pod, container, query and caller
  POST /exec/NS/POD/CONTAINER            SPDY/3.1, v4.channel.k8s.io (and older): commands
                                         echo ARGS, cat (stdin to stdout), fail (exit 3),
                                         whoami (the client certificate's CN)
  POST /attach/NS/POD/CONTAINER          SPDY/3.1: "attached", then stdin to stdout
  POST /portForward/NS/POD               SPDY/3.1, portforward.k8s.io: each connection's
                                         bytes come back upper-cased
  anything else                          "kubelet: METHOD PATH" (nodes/proxy)
A second, plain HTTP listener plays a pod (pods/proxy, services/proxy).

The SPDY/3 side is written here from the protocol's draft, independently of Skiff's.
"""
import json
import queue
import socket
import socketserver
import ssl
import struct
import subprocess
import tempfile
import threading
import urllib.parse
import zlib

_NAMES = ["options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
          "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
          "content-base", "content-encoding", "content-language", "content-length", "content-location",
          "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
          "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
          "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
          "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
          "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
          "public", "set-cookie", "keep-alive", "origin"]
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
         "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
         "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
         "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
         "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
DICTIONARY = b"".join(struct.pack(">I", len(n)) + n.encode() for n in _NAMES) + _TAIL.encode()

REMOTE_COMMAND_PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]


class Stream:
    def __init__(self, sid, headers):
        self.id = sid
        self.headers = headers
        self.inbox = queue.Queue()  # bytes, or None at the peer's FIN

    @property
    def type(self):
        return self.headers.get("streamtype", "")


class SpdyServerConnection:
    """The server side of one SPDY/3.1 connection: reads frames on a thread of its own."""

    def __init__(self, sock, leftover=b""):
        self.sock = sock
        self.buffer = leftover
        self.lock = threading.Lock()
        self.inflater = zlib.decompressobj(zdict=DICTIONARY)
        self.deflater = zlib.compressobj(zdict=DICTIONARY)
        self.streams = {}
        self.arrived = threading.Condition()
        self.closed = False
        threading.Thread(target=self._read_loop, daemon=True).start()

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError()
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _headers(self, block):
        raw = self.inflater.decompress(block)
        count, = struct.unpack(">I", raw[:4])
        pos, out = 4, {}
        for _ in range(count):
            n, = struct.unpack(">I", raw[pos:pos + 4]); name = raw[pos + 4:pos + 4 + n].decode(); pos += 4 + n
            n, = struct.unpack(">I", raw[pos:pos + 4]); value = raw[pos + 4:pos + 4 + n].decode(); pos += 4 + n
            out[name.lower()] = value
        return out

    def _read_loop(self):
        try:
            while True:
                head = self._read(8)
                flags, length = head[4], int.from_bytes(head[5:8], "big")
                payload = self._read(length)
                fin = flags & 1
                if head[0] & 0x80 == 0:
                    sid = struct.unpack(">I", head[:4])[0] & 0x7fffffff
                    stream = self.streams.get(sid)
                    if stream:
                        if payload:
                            stream.inbox.put(payload)
                        if fin:
                            stream.inbox.put(None)
                    continue
                ftype = struct.unpack(">H", head[2:4])[0]
                if ftype == 1:  # SYN_STREAM
                    sid = struct.unpack(">I", payload[:4])[0] & 0x7fffffff
                    stream = Stream(sid, self._headers(payload[10:]))
                    self.send_control(2, 0, struct.pack(">I", sid) + self._block({}))  # SYN_REPLY
                    with self.arrived:
                        self.streams[sid] = stream
                        self.arrived.notify_all()
                    if fin:
                        stream.inbox.put(None)
                elif ftype == 3:  # RST_STREAM
                    sid = struct.unpack(">I", payload[:4])[0] & 0x7fffffff
                    if sid in self.streams:
                        self.streams[sid].inbox.put(None)
                elif ftype == 6:  # PING
                    self.send_control(6, 0, payload)
                elif ftype == 7:  # GOAWAY
                    break
        except (EOFError, OSError, ssl.SSLError):
            pass
        self.closed = True
        for stream in list(self.streams.values()):
            stream.inbox.put(None)
        with self.arrived:
            self.arrived.notify_all()

    def _block(self, headers):
        raw = struct.pack(">I", len(headers))
        for k, v in headers.items():
            raw += struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
        return self.deflater.compress(raw) + self.deflater.flush(zlib.Z_SYNC_FLUSH)

    def send_control(self, ftype, flags, payload):
        with self.lock:
            self.sock.sendall(struct.pack(">HHB", 0x8003, ftype, flags) + len(payload).to_bytes(3, "big") + payload)

    def send_data(self, sid, data, fin=False):
        with self.lock:
            self.sock.sendall(struct.pack(">IB", sid, 1 if fin else 0) + len(data).to_bytes(3, "big") + data)

    def wait_streams(self, types, timeout=15):
        """The streams of the named types, once the client has opened them all."""
        with self.arrived:
            ok = self.arrived.wait_for(lambda: self.closed or types <= {s.type for s in self.streams.values()}, timeout)
        if not ok or self.closed:
            raise RuntimeError("streams %s never arrived" % types)
        return {s.type: s for s in self.streams.values()}


def _read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, None, b""
        data += chunk
        if len(data) > 65536:
            return None, None, b""
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = (headers[key] + ", " if key in headers else "") + value.strip()
    return (method, target), headers, rest


def _respond(sock, code, body, content_type="text/plain", reason="OK"):
    sock.sendall(("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                  % (code, reason, content_type, len(body))).encode() + body)


class FakeKubelet:
    def __init__(self, ca_file):
        self.tmp = tempfile.mkdtemp()
        cert, key = self.tmp + "/kubelet.crt", self.tmp + "/kubelet.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-subj", "/CN=fake-kubelet", "-days", "1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(ca_file)
        self.requests = []
        kubelet = self

        class TLSHandler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    conn = context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError) as error:
                    kubelet.requests.append(("refused", str(error)))
                    return
                try:
                    kubelet.serve(conn)
                except (OSError, ssl.SSLError, EOFError, RuntimeError) as error:
                    kubelet.requests.append(("error", str(error)))
                finally:
                    try:
                        conn.close()
                    except OSError:
                        pass

        class PlainHandler(socketserver.BaseRequestHandler):
            def handle(self):
                (request, headers, rest) = _read_head(self.request)
                if request is None:
                    return
                length = int(headers.get("content-length", "0"))
                body = rest
                while len(body) < length:
                    body += self.request.recv(65536)
                text = "pod: %s %s body=%s auth=%s" % (request[0], request[1], body.decode(), headers.get("authorization", "-"))
                _respond(self.request, 200, text.encode())

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.tls = socketserver.ThreadingTCPServer(("127.0.0.1", 0), TLSHandler)
        self.tls.daemon_threads = True
        self.plain = socketserver.ThreadingTCPServer(("127.0.0.1", 0), PlainHandler)
        self.plain.daemon_threads = True
        self.port = self.tls.server_address[1]
        self.pod_port = self.plain.server_address[1]
        for server in (self.tls, self.plain):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self):
        self.tls.shutdown()
        self.plain.shutdown()

    def serve(self, conn):
        caller = dict(x[0] for x in conn.getpeercert()["subject"]).get("commonName", "?")
        (request, headers, rest) = _read_head(conn)
        if request is None:
            return
        method, target = request
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        self.requests.append((method, target, headers.get("upgrade", ""), caller))
        if parts[0] == "containerLogs" and len(parts) == 4:
            lines = ["log of %s/%s/%s caller=%s query=%s" % (parts[1], parts[2], parts[3], caller, url.query)]
            if query.get("follow") == ["true"]:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
                for line in lines + ["follow %d" % i for i in range(3)]:
                    data = (line + "\n").encode()
                    conn.sendall(b"%x\r\n%s\r\n" % (len(data), data))
                conn.sendall(b"0\r\n\r\n")
                return
            _respond(conn, 200, ("\n".join(lines) + "\n").encode())
            return
        if parts[0] in ("exec", "attach", "portForward"):
            if headers.get("upgrade", "").lower() != "spdy/3.1":
                _respond(conn, 400, b"Upgrade request required", reason="Bad Request")
                return
            offered = [p.strip() for p in headers.get("x-stream-protocol-version", "").split(",") if p.strip()]
            supported = ["portforward.k8s.io"] if parts[0] == "portForward" else REMOTE_COMMAND_PROTOCOLS
            chosen = next((p for p in offered if p in supported), None)
            if chosen is None:
                _respond(conn, 403, b"no supported stream protocol", reason="Forbidden")
                return
            conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                          "X-Stream-Protocol-Version: %s\r\n\r\n" % chosen).encode())
            spdy = SpdyServerConnection(conn, rest)
            if parts[0] == "portForward":
                self.port_forward(spdy)
            else:
                self.remote_command(spdy, parts[0], query, caller)
            return
        _respond(conn, 200, ("kubelet: %s %s caller=%s" % (method, target, caller)).encode())

    def remote_command(self, spdy, kind, query, caller):
        wanted = {"error"}
        for param, stream in (("input", "stdin"), ("output", "stdout"), ("error", "stderr"), ("tty", "resize")):
            if query.get(param) == ["1"]:
                wanted.add(stream)
        streams = spdy.wait_streams(wanted)
        out = streams.get("stdout")
        err = streams.get("stderr")
        stdin = streams.get("stdin")
        command = query.get("command", [])
        status = {"metadata": {}, "status": "Success"}

        def copy_stdin():
            while stdin is not None:
                chunk = stdin.inbox.get(timeout=30)
                if chunk is None:
                    return
                if out is not None:
                    spdy.send_data(out.id, chunk)

        if kind == "attach":
            if out is not None:
                spdy.send_data(out.id, b"attached\n")
            copy_stdin()
        elif command[:1] == ["echo"]:
            spdy.send_data(out.id, (" ".join(command[1:]) + "\n").encode())
        elif command[:1] == ["cat"]:
            copy_stdin()
        elif command[:1] == ["whoami"]:
            spdy.send_data(out.id, (caller + "\n").encode())
        elif command[:1] == ["fail"]:
            if err is not None:
                spdy.send_data(err.id, b"failing on purpose\n")
            status = {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                      "message": "command terminated with non-zero exit code: exit status 3",
                      "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}
        else:
            status = {"metadata": {}, "status": "Failure", "reason": "InternalError",
                      "message": "fake kubelet: unknown command %s" % command}
        spdy.send_data(streams["error"].id, json.dumps(status).encode())
        for stream in streams.values():
            spdy.send_data(stream.id, b"", fin=True)
        spdy.sock.shutdown(socket.SHUT_RDWR)

    def port_forward(self, spdy):
        served = set()
        while not spdy.closed:
            with spdy.arrived:
                spdy.arrived.wait(timeout=1)
                fresh = [s for s in spdy.streams.values() if s.id not in served]
            for stream in fresh:
                served.add(stream.id)
                if stream.type == "data":
                    threading.Thread(target=self._echo_upper, args=(spdy, stream), daemon=True).start()

    @staticmethod
    def _echo_upper(spdy, stream):
        while True:
            chunk = stream.inbox.get()
            if chunk is None:
                break
            spdy.send_data(stream.id, chunk.upper())
        try:
            spdy.send_data(stream.id, b"", fin=True)
        except OSError:
            pass
