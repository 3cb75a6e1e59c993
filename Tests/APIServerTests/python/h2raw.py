"""A raw HTTP/2 client over TLS for tests that must send what no well-behaved library sends:
hand-built frames and HPACK blocks (RFC 9113, RFC 7541). Only what the tests need."""
import socket
import ssl
import struct
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20


def hpack_int(value, prefix_bits, first_byte_flags=0):
    """RFC 7541 5.1 integer with an N-bit prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_string(data):
    if isinstance(data, str):
        data = data.encode()
    return hpack_int(len(data), 7) + data


def literal(name, value, indexing=False):
    """A literal header field with a literal name, with or without incremental indexing."""
    return (b"\x40" if indexing else b"\x00") + hpack_string(name) + hpack_string(value)


def indexed(index):
    return hpack_int(index, 7, 0x80)


def header_block(method, path, headers=(), authority="127.0.0.1"):
    block = b"".join(literal(n, v) for n, v in [(":method", method), (":scheme", "https"), (":path", path),
                                                  (":authority", authority)])
    return block + b"".join(literal(n, v) for n, v in headers)


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream & 0x7FFFFFFF) + payload


class Connection:
    """One TLS connection with ALPN h2. `ack_settings` decides whether the server's SETTINGS
    are acknowledged (a hostile client may never do so)."""

    def __init__(self, host, port, ca, cert=None, key=None, ack_settings=True, timeout=10):
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=host)
        assert self.sock.selected_alpn_protocol() == "h2", self.sock.selected_alpn_protocol()
        self.ack_settings = ack_settings
        self.buffer = b""
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0, b""))

    def settle(self, timeout=5):
        """Reads until the server's SETTINGS arrived (and were acknowledged, if this client
        acknowledges) and ours were acknowledged: the server's limits are then in force."""
        deadline = time.time() + timeout
        theirs = ours = False
        while not (theirs and ours):
            got = self.read_frame(deadline)
            if got is None:
                raise ConnectionError("closed during the SETTINGS exchange")
            kind, flags, _, _ = got
            if kind == SETTINGS:
                if flags & ACK:
                    ours = True
                else:
                    theirs = True
        return self

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def read_frame(self, deadline):
        """The next frame as (type, flags, stream, payload), or None when the connection ends."""
        while len(self.buffer) < 9 or len(self.buffer) < 9 + struct.unpack(">I", b"\x00" + self.buffer[:3])[0]:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise TimeoutError("no frame before the deadline")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
                return None
            if not chunk:
                return None
            self.buffer += chunk
        length = struct.unpack(">I", b"\x00" + self.buffer[:3])[0]
        kind, flags = self.buffer[3], self.buffer[4]
        stream = struct.unpack(">I", self.buffer[5:9])[0] & 0x7FFFFFFF
        payload = self.buffer[9:9 + length]
        self.buffer = self.buffer[9 + length:]
        if kind == SETTINGS and not flags & ACK and self.ack_settings:
            self.send(frame(SETTINGS, ACK, 0, b""))
        if kind == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        return kind, flags, stream, payload

    def response(self, stream, timeout=10):
        """Reads until `stream` ends, is reset or the connection goes away. Returns
        (status, body, how) where how is 'end', 'reset', 'goaway' or 'closed'."""
        deadline = time.time() + timeout
        status, body = None, b""
        while True:
            got = self.read_frame(deadline)
            if got is None:
                return status, body, "closed"
            kind, flags, sid, payload = got
            if kind == GOAWAY:
                last = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
                if last < stream:
                    return status, body, "goaway"
            if sid != stream:
                continue
            if kind == HEADERS:
                status = status or decode_status(payload)
            elif kind == DATA:
                body += payload
                # Return the flow-control credit so large answers keep coming.
                if payload:
                    self.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", len(payload)))
                              + frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", len(payload))))
            elif kind == RST_STREAM:
                return status, body, "reset"
            if kind in (HEADERS, DATA) and flags & END_STREAM:
                return status, body, "end"


def decode_status(block):
    """The :status of a response header block, from its first field (the server sends it
    first, indexed for the common codes or as a literal with indexed name)."""
    static = {0x88: 200, 0x89: 204, 0x8A: 206, 0x8B: 304, 0x8C: 400, 0x8D: 404, 0x8E: 500}
    if not block:
        return None
    if block[0] in static:
        return static[block[0]]
    # Literal with an indexed name (index 8..14 are :status): 0x0N/0x1N/0x4N, then the value.
    for skip in (1,):
        if len(block) > skip + 1:
            length = block[skip] & 0x7F
            if block[skip] & 0x80:
                return None  # Huffman-coded: not needed by the tests
            value = block[skip + 1:skip + 1 + length]
            if value.isdigit():
                return int(value)
    return None
