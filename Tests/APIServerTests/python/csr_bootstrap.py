"""A kubelet's TLS bootstrap on Skiff: a bootstrap token, a CertificateSigningRequest, its
approval, Skiff's signature, and the signed certificate used as the node.

Usage: csr_bootstrap.py ADMIN_KUBECONFIG CA_FILE SERVER_URL KUBECTL

Prints OK at the end.
"""
import base64
import datetime
import os
import subprocess
import sys
import tempfile
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

admin_config, ca_file, server, kubectl = sys.argv[1:5]
admin = config.new_client_from_config(admin_config)
core, certificates = client.CoreV1Api(admin), client.CertificatesV1Api(admin)
work = tempfile.mkdtemp()
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what, flush=True)


def as_token(token):
    configuration = client.Configuration()
    configuration.host = server
    configuration.ssl_ca_cert = ca_file
    configuration.api_key = {"authorization": "Bearer " + token}
    return client.ApiClient(configuration)


def status_of(call):
    try:
        call()
        return 200
    except ApiException as error:
        return error.status


def token_secret(token_id, secret, expires_in):
    expiration = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    core.create_namespaced_secret("kube-system", {
        "metadata": {"name": "bootstrap-token-" + token_id}, "type": "bootstrap.kubernetes.io/token",
        "stringData": {"token-id": token_id, "token-secret": secret, "expiration": expiration,
                       "usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
                       "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"}})


def csr_pem(subject, sans=None):
    key, request = os.path.join(work, "k%d.pem" % time.monotonic_ns()), os.path.join(work, "r%d.pem" % time.monotonic_ns())
    command = ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", key, "-out", request, "-subj", subject]
    if sans:
        command += ["-addext", "subjectAltName=" + sans]
    subprocess.run(command, check=True, capture_output=True)
    with open(request, "rb") as f:
        return key, base64.b64encode(f.read()).decode()


def wait_for(name, predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        csr = certificates.read_certificate_signing_request(name)
        if predicate(csr):
            return csr
        time.sleep(0.2)
    return certificates.read_certificate_signing_request(name)


# Bootstrap tokens: a valid one signs in as system:bootstrap:ID; wrong, expired and unknown ones do not.
token_secret("abcdef", "0123456789abcdef", 3600)
token_secret("expire", "0123456789abcdef", -60)
bootstrap = as_token("abcdef.0123456789abcdef")
review = client.AuthenticationV1Api(bootstrap).create_self_subject_review({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
user = review.status.user_info
check(user.username == "system:bootstrap:abcdef", "bootstrap user: %r" % user.username)
check("system:bootstrappers" in user.groups and "system:bootstrappers:kubeadm:default-node-token" in user.groups,
      "bootstrap groups: %r" % user.groups)
for token in ("abcdef.0123456789abcdee", "expire.0123456789abcdef", "zzzzzz.0123456789abcdef"):
    got = status_of(lambda: client.CoreV1Api(as_token(token)).list_namespaced_config_map("default"))
    check(got == 401, "token %s: %d" % (token, got))
check(status_of(lambda: client.CoreV1Api(bootstrap).list_namespaced_secret("kube-system")) == 403, "a bootstrap token reads secrets")

# The kubelet's client certificate request, made with the token; the requester is recorded.
node_key, request = csr_pem("/O=system:nodes/CN=system:node:node-x")
boot_certificates = client.CertificatesV1Api(bootstrap)
boot_certificates.create_certificate_signing_request({"metadata": {"name": "node-x-client"}, "spec": {
    "request": request, "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
    "usages": ["digital signature", "client auth"], "username": "system:admin-impostor", "groups": ["system:masters"]}})
created = certificates.read_certificate_signing_request("node-x-client")
check(created.spec.username == "system:bootstrap:abcdef" and "system:masters" not in (created.spec.groups or []),
      "recorded requester: %r %r" % (created.spec.username, created.spec.groups))
check(not (created.status and created.status.certificate), "signed before approval")
approval = {"status": {"conditions": [{"type": "Approved", "status": "True", "reason": "Self", "message": "self"}]}}
check(status_of(lambda: boot_certificates.patch_certificate_signing_request_approval("node-x-client", approval)) == 403,
      "the requester approved its own request")

out = subprocess.run([kubectl, "--kubeconfig", admin_config, "certificate", "approve", "node-x-client"], capture_output=True, text=True, timeout=60)
check(out.returncode == 0, "kubectl certificate approve: %r" % out.stderr)
signed = wait_for("node-x-client", lambda c: c.status and c.status.certificate)
pem = base64.b64decode(signed.status.certificate or "")
check(pem.startswith(b"-----BEGIN CERTIFICATE-----"), "no certificate: %r" % signed.status)
certificate = os.path.join(work, "node-x.crt")
with open(certificate, "wb") as f:
    f.write(pem)
verify = subprocess.run(["openssl", "verify", "-CAfile", ca_file, certificate], capture_output=True, text=True)
check(verify.returncode == 0, "openssl verify: %r %r" % (verify.stdout, verify.stderr))
text = subprocess.run(["openssl", "x509", "-in", certificate, "-noout", "-text"], capture_output=True, text=True).stdout
check("CN = system:node:node-x" in text and "O = system:nodes" in text and "TLS Web Client Authentication" in text,
      "certificate contents: %s" % text)

# The signed certificate signs in as the node: its own Node is its to read, another's is not.
def as_node(*args):
    return subprocess.run([kubectl, "--server", server, "--certificate-authority", ca_file, "--client-certificate", certificate,
                           "--client-key", node_key] + list(args), capture_output=True, text=True, timeout=60)


out = as_node("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
check(out.stdout == "system:node:node-x", "whoami with the signed certificate: %r %r" % (out.stdout, out.stderr))
out = as_node("get", "node", "node-x")
check("NotFound" in out.stderr, "the node reads its own (absent) Node: %r" % out.stderr)
out = as_node("get", "node", "node-y")
check("Forbidden" in out.stderr, "the node reads another Node: %r" % out.stderr)

# A serving request without addresses fails the signer's rules; a bad PEM is refused at create.
_, serving = csr_pem("/O=system:nodes/CN=system:node:node-x")
certificates.create_certificate_signing_request({"metadata": {"name": "node-x-serving"}, "spec": {
    "request": serving, "signerName": "kubernetes.io/kubelet-serving", "usages": ["digital signature", "server auth"]}})
subprocess.run([kubectl, "--kubeconfig", admin_config, "certificate", "approve", "node-x-serving"], capture_output=True, timeout=60)
failed = wait_for("node-x-serving", lambda c: any(x.type == "Failed" for x in (c.status.conditions or [])))
reasons = [(x.type, x.reason) for x in (failed.status.conditions or [])]
check(("Failed", "SignerValidationFailure") in reasons and not failed.status.certificate, "serving request without addresses: %r" % reasons)
_, serving = csr_pem("/O=system:nodes/CN=system:node:node-x", sans="DNS:node-x,IP:127.0.0.1")
certificates.create_certificate_signing_request({"metadata": {"name": "node-x-serving-2"}, "spec": {
    "request": serving, "signerName": "kubernetes.io/kubelet-serving", "usages": ["digital signature", "server auth"]}})
subprocess.run([kubectl, "--kubeconfig", admin_config, "certificate", "approve", "node-x-serving-2"], capture_output=True, timeout=60)
served = wait_for("node-x-serving-2", lambda c: c.status and c.status.certificate)
check(bool(served.status.certificate), "serving request with addresses: %r" % served.status)
got = status_of(lambda: certificates.create_certificate_signing_request({"metadata": {"name": "junk"}, "spec": {
    "request": base64.b64encode(b"not a request").decode(), "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"]}}))
check(got == 422, "a request that is not PEM: %d" % got)

if failures:
    print("%d failures" % len(failures))
    sys.exit(1)
print("OK")
