"""A keep-alive HTTP/1.1 client over TLS that sends requests byte for byte as given (no header
or path checks, unlike http.client) and reads answers by Content-Length, chunked coding or
close."""
import socket
import ssl


class Closed(Exception):
    pass


class RawHTTP:
    def __init__(self, host, port, context, timeout=30):
        self.host, self.port, self.context, self.timeout = host, port, context, timeout
        self.sock = None
        self.buffer = b""

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock, self.buffer = None, b""

    def _connect(self):
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
        self.buffer = b""

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise Closed()
        self.buffer += chunk

    def _line(self):
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > 1 << 20:
                raise Closed()
            self._fill()
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _exactly(self, count):
        while len(self.buffer) < count:
            self._fill()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def request(self, method, path, headers, body):
        """(status, headers dict with lower-case names, body bytes); raises Closed when the
        server closed the connection without a complete answer."""
        if self.sock is None:
            self._connect()
        lines = [f"{method} {path} HTTP/1.1".encode("utf-8", "surrogatepass"), f"Host: {self.host}".encode()]
        for key, value in headers.items():
            lines.append(f"{key}: {value}".encode("utf-8", "surrogatepass"))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d" % len(body))
        try:
            self.sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            status_line = self._line()
            parts = status_line.split(b" ", 2)
            status = int(parts[1])
            answer_headers = {}
            while True:
                line = self._line()
                if not line:
                    break
                key, _, value = line.partition(b":")
                answer_headers[key.decode(errors="replace").strip().lower()] = value.decode(errors="replace").strip()
            if method == "HEAD" or status in (204, 304):
                data = b""
            elif "content-length" in answer_headers:
                data = self._exactly(int(answer_headers["content-length"]))
            elif "chunked" in answer_headers.get("transfer-encoding", ""):
                data = b""
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        self._line()
                        break
                    data += self._exactly(size)
                    self._exactly(2)
            else:
                data = self.buffer
                try:
                    while True:
                        self._fill()
                        data = self.buffer
                except Closed:
                    pass
                self.close()
            if answer_headers.get("connection", "").lower() == "close":
                self.close()
            return status, answer_headers, data
        except (Closed, ConnectionError, ssl.SSLError, socket.timeout, OSError, ValueError, IndexError) as error:
            self.close()
            raise Closed(str(error))
