"""Seeded hostile HTTP/2 connections: random and malformed frames (types, flags, lengths,
stream ids, SETTINGS values, window updates, priorities, HPACK blocks), each connection a few
frames long. The server may answer, reset streams or close the connection; it must neither
crash nor hang, and a well-formed request on a fresh connection must still be answered."""
import struct
import time

import h2raw


def settings_payload(rng):
    out = b""
    for _ in range(rng.randint(0, 6)):
        identifier = rng.choice([1, 2, 3, 4, 5, 6, 8, 9, 0, 7, 0xFFFF])
        value = rng.choice([0, 1, 2, 100, 16383, 16384, 16777215, 16777216, 2**31 - 1, 2**31, 2**32 - 1])
        out += struct.pack(">HI", identifier, value)
    if rng.random() < 0.1:
        out += b"\x00\x01"  # not a multiple of 6
    return out


def random_frame(rng, next_stream):
    kind = rng.choice(range(12))
    stream = rng.choice([0, next_stream, next_stream + 2, 2, 2**31 - 1, 1])
    flags = rng.choice([0, 1, 4, 5, 8, 0x20, 0x25, 0x2D, 0xFF])
    if kind == h2raw.HEADERS:
        block = h2raw.header_block(rng.choice(["GET", "POST", "", "X"]), rng.choice(["/api", "/api/v1/namespaces/fuzz/configmaps", "", "*", "a"]))
        roll = rng.random()
        if roll < 0.3:
            block = bytes(rng.randrange(256) for _ in range(rng.randrange(40))) + block
        elif roll < 0.45:
            block += h2raw.hpack_int(rng.choice([62, 100, 4096, 2**20]), 7, 0x80)
        elif roll < 0.55:
            block += h2raw.literal("connection", "close") + h2raw.literal("transfer-encoding", "chunked")
        elif roll < 0.65:
            block = h2raw.hpack_int(rng.choice([0, 4097, 2**30]), 5, 0x20) + block  # dynamic table size update
        payload = block
        if flags & h2raw.PADDED:
            payload = bytes([rng.choice([0, 5, 255])]) + payload
    elif kind == h2raw.DATA:
        payload = rng.randbytes(rng.choice([0, 1, 100, 20000]))
    elif kind == h2raw.SETTINGS:
        payload = settings_payload(rng)
    elif kind == h2raw.WINDOW_UPDATE:
        payload = struct.pack(">I", rng.choice([0, 1, 2**31 - 1, 2**31, 65535]))
    elif kind == h2raw.PRIORITY:
        payload = struct.pack(">IB", rng.choice([stream, 0, 2**31 | stream]), rng.randrange(256))
    elif kind == h2raw.RST_STREAM:
        payload = struct.pack(">I", rng.choice([0, 1, 8, 0xFFFFFFFF]))
    elif kind == h2raw.PING:
        payload = rng.randbytes(rng.choice([8, 8, 7, 0]))
    elif kind == h2raw.GOAWAY:
        payload = struct.pack(">II", rng.choice([0, 2**31 - 1]), rng.randrange(14)) + rng.randbytes(rng.randrange(20))
    else:
        payload = rng.randbytes(rng.randrange(64))
    if rng.random() < 0.05:
        payload = payload[:max(0, len(payload) - rng.randint(1, 5))]
    return h2raw.frame(kind, flags, stream, payload)


def run_connection(rng, host, port, ca, cert, key):
    """One hostile connection; returns the number of frames sent."""
    try:
        connection = h2raw.Connection(host, port, ca, cert, key, ack_settings=rng.random() < 0.7, timeout=5)
    except OSError:
        return 0
    sent = 0
    try:
        if rng.random() < 0.05:
            connection.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")  # a second, bad preface
        next_stream = 1
        frames = b""
        for _ in range(rng.randint(1, 12)):
            frames += random_frame(rng, next_stream)
            next_stream += 2
            sent += 1
        if rng.random() < 0.5:
            frames += h2raw.frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, next_stream, h2raw.header_block("GET", "/api"))
            sent += 1
        connection.send(frames)
        deadline = time.time() + 1.5
        while time.time() < deadline:
            try:
                if connection.read_frame(deadline) is None:
                    break
            except TimeoutError:
                break
    except OSError:
        pass
    finally:
        connection.close()
    return sent
