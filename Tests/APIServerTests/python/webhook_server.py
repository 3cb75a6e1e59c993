"""What the webhook scripts share: a test CA and a serving certificate made with openssl, and
an HTTPS server on a free loopback port."""
import base64
import json
import os
import ssl
import subprocess
import tempfile
import threading
from http.server import ThreadingHTTPServer


def certificates(sans):
    """A directory with ca.crt, server.crt and server.key (for the subjectAltNames `sans`), the
    CA as a caBundle, and the caBundle of another CA that signed nothing."""
    work = tempfile.mkdtemp(prefix="skiff-webhooks-")

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=work)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=skiff-webhook-test-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=webhook")
    with open(os.path.join(work, "san.ext"), "w") as f:
        f.write("subjectAltName=" + ",".join(sans) + "\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
            "-days", "2", "-extfile", "san.ext")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-days", "2",
            "-subj", "/CN=another-ca")

    def bundle(name):
        with open(os.path.join(work, name), "rb") as f:
            return base64.b64encode(f.read()).decode()
    return work, bundle("ca.crt"), bundle("other.crt")


def serve(handler, work, client_ca=None, address="127.0.0.1"):
    """Starts an HTTPS server with `handler` in a thread on `address`; answers it and its port.
    With `client_ca` (a PEM file), clients must present a certificate it issued."""
    server = ThreadingHTTPServer((address, 0), handler)
    server.daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(os.path.join(work, "server.crt"), os.path.join(work, "server.key"))
    if client_ca:
        tls.load_verify_locations(client_ca)
        tls.verify_mode = ssl.CERT_REQUIRED
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def reply(handler, document):
    """Answers a webhook request with `document` as JSON."""
    body = json.dumps(document).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
