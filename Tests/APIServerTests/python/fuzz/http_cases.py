"""Seeded hostile HTTP requests for the Kubernetes API: bodies (JSON, YAML, protobuf), the four
patch types and server-side apply, paths, query parameters and headers. Each generator takes a
`random.Random` and returns (method, path, headers, body). They aim at the `fuzz` namespace
and at random names, never at the canaries (namespace `canary`)."""
import base64
import json
import random
import string

NAMESPACE = "fuzz"
KINDS = [
    # (collection path, apiVersion, kind, a valid object's extra fields)
    ("/api/v1/namespaces/fuzz/configmaps", "v1", "ConfigMap", {"data": {"a": "1"}}),
    ("/api/v1/namespaces/fuzz/secrets", "v1", "Secret", {"stringData": {"a": "1"}}),
    ("/api/v1/namespaces/fuzz/services", "v1", "Service", {"spec": {"ports": [{"port": 80}]}}),
    ("/api/v1/namespaces/fuzz/pods", "v1", "Pod", {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    ("/apis/apps/v1/namespaces/fuzz/deployments", "apps/v1", "Deployment",
     {"spec": {"selector": {"matchLabels": {"a": "b"}},
               "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
    ("/apis/rbac.authorization.k8s.io/v1/namespaces/fuzz/roles", "rbac.authorization.k8s.io/v1", "Role",
     {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ("/apis/fuzz.example.com/v1/namespaces/fuzz/widgets", "fuzz.example.com/v1", "Widget", {"spec": {"size": 1}}),
    ("/apis/coordination.k8s.io/v1/namespaces/fuzz/leases", "coordination.k8s.io/v1", "Lease", {"spec": {"holderIdentity": "x"}}),
    ("/apis/batch/v1/namespaces/fuzz/jobs", "batch/v1", "Job",
     {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}),
]
EXISTING = ["fz-0", "fz-1", "fz-2", "fz-3"]  # created by the orchestrator in every kind above

WEIRD_STRINGS = ["", " ", "\x00", "\r\n", "\u202e", "\ud7ff", "💥", "a" * 300, "A", "-a-", "a..b", "..", "/", "%00",
                 "%2F", "\\", "'", '"', "${x}", "{{x}}", "a" * 70000, "0", "-1", "1e400", "NaN", "null", "true",
                 "kube-system", "canary-not", "ñ", "\t", "a\nb", "*", "?", "#", "&", "=", ";", ",", "a b"]
WEIRD_NUMBERS = [0, -1, 1, 2**31, 2**31 - 1, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63), -(2**63) - 1,
                 10**30, 1.5, -0.0, 1e308, 1e-308]
WEIRD_JSON_TEXTS = ["1e400", "-1e400", "123456789012345678901234567890", "0.0000000000000000000000000000001", "-0",
                    "1E+2", "00", "01", ".5", "+1", "0x10", "Infinity", "NaN", "tru", "nul", '"\\ud800"', '"\\u0000"',
                    '"\\uZZZZ"', "[" * 2000 + "]" * 2000, "{}" * 3]


def name(rng):
    if rng.random() < 0.6:
        return rng.choice(EXISTING)
    if rng.random() < 0.5:
        return "fz-" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(rng.randint(1, 12)))
    return rng.choice(WEIRD_STRINGS)


def quote_path(segment):
    return "".join(c if c.isalnum() or c in "-._~" else "%%%02X" % b for c in segment for b in c.encode("utf-8"))[:2000]


def random_value(rng, depth=0):
    roll = rng.random()
    if depth > 4 or roll < 0.3:
        return rng.choice(WEIRD_STRINGS[:30] + WEIRD_NUMBERS + [None, True, False])
    if roll < 0.65:
        return {rng.choice(WEIRD_STRINGS[:30] + ["metadata", "spec", "data", "kind", "apiVersion", "status", "name"]):
                random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def valid_object(rng, kind_index=None, object_name=None):
    path, api_version, kind, extra = KINDS[kind_index if kind_index is not None else rng.randrange(len(KINDS))]
    body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": object_name or name(rng), "namespace": NAMESPACE}}
    body.update(json.loads(json.dumps(extra)))
    return path, body


def mutate_tree(rng, node, depth=0):
    """Replaces, deletes or adds one thing somewhere in a JSON tree (in place when possible)."""
    if isinstance(node, dict) and node and rng.random() < 0.7:
        key = rng.choice(list(node))
        action = rng.random()
        if action < 0.3:
            node[key] = random_value(rng)
        elif action < 0.45:
            del node[key]
        elif action < 0.6:
            node[rng.choice(WEIRD_STRINGS[:30])] = random_value(rng)
        else:
            node[key] = mutate_tree(rng, node[key], depth + 1)
        return node
    if isinstance(node, list) and node and rng.random() < 0.7:
        index = rng.randrange(len(node))
        node[index] = mutate_tree(rng, node[index], depth + 1)
        return node
    return random_value(rng)


def deep(rng, depth):
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    return opener * depth + "1" + closer * depth


def json_body(rng):
    path, body = valid_object(rng)
    for _ in range(rng.randint(1, 4)):
        body = mutate_tree(rng, body)
    text = json.dumps(body)
    roll = rng.random()
    if roll < 0.15:
        text = text[:rng.randrange(len(text) + 1)]
    elif roll < 0.3:
        position = rng.randrange(len(text) + 1)
        text = text[:position] + rng.choice(WEIRD_JSON_TEXTS) + text[position:]
    elif roll < 0.38:
        text = deep(rng, rng.choice([50, 99, 101, 200, 1000, 100000]))
    elif roll < 0.45:
        text = text.replace('"metadata"', '"metadata":{"name":"dup"},"metadata"', 1)
    elif roll < 0.5:
        key = rng.choice(["\x00junk", "a\r\nb", "\u2028", "a" * 10000])
        text = text[:-1] + ", " + json.dumps(key) + ": 1}" if text.endswith("}") else text
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        data = data.replace(b"a", b"\xff\xfe", 1)
    method = rng.choice(["POST", "POST", "PUT"])
    target = path if method == "POST" else path + "/" + quote_path(name(rng))
    return method, target, {"Content-Type": "application/json"}, data


YAML_DOCS = [
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\ndata:\n  a: '1'\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "!!python/object/apply:os.system ['true']\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: !!binary aGVsbG8=\n",
    "--- \n- a\n--- \n- b\n",
    "? [a, b]\n: c\n",
    "!!map {? a}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n  labels: &l {{a: b}}\n  annotations: *l\ndata: *undefined\n",
    "a: !!int 99999999999999999999999999\n",
    "a: !!float .nan\nb: !!timestamp 2001-12-14\n",
    "\t- tab\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}}}\ndata: {{a: [1, {{b: c}}]}}\n",
    "%YAML 1.1\n%TAG ! tag:x,2000:\n--- !foo\na: 1\n",
    "&a [*a]\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n<<: {{data: {{a: b}}}}\n",
]


def yaml_body(rng):
    text = rng.choice(YAML_DOCS).replace("{n}", "fz-y" + str(rng.randrange(100)))
    if rng.random() < 0.2:
        text = "a:\n" + "".join("  " * i + "- \n" for i in range(rng.choice([50, 150, 1000])))
    elif rng.random() < 0.3:
        position = rng.randrange(len(text) + 1)
        text = text[:position] + rng.choice(["*", "&", "!", "|", ">", ":", "- ", "\x00", "{", "[", "'", '"']) + text[position:]
    path = rng.choice(KINDS)[0]
    method = rng.choice(["POST", "PUT"])
    target = path if method == "POST" else path + "/" + quote_path(name(rng))
    return method, target, {"Content-Type": rng.choice(["application/yaml", "application/yaml", "text/yaml"])}, text.encode()


def protobuf_body(rng, samples):
    """A protobuf request: a real object's encoding (from the server) with bytes flipped,
    truncated, lengths corrupted or nested without end."""
    data = bytearray(rng.choice(samples)) if samples else bytearray(b"k8s\x00")
    roll = rng.random()
    if roll < 0.3 and len(data) > 4:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(4, len(data))] = rng.randrange(256)
    elif roll < 0.5:
        data = data[:rng.randrange(len(data) + 1)]
    elif roll < 0.65:
        # A length prefix claiming far more than follows.
        data = bytearray(b"k8s\x00") + b"\x0a\xff\xff\xff\xff\x0f" + data[4:]
    elif roll < 0.8:
        nested = b""
        for _ in range(rng.choice([50, 101, 500, 3000])):
            nested = b"\x0a" + encode_varint(len(nested)) + nested
        data = bytearray(b"k8s\x00") + b"\x12" + encode_varint(len(nested)) + nested
    else:
        data = bytearray(rng.randbytes(rng.randrange(200)))
    path = rng.choice(KINDS[:6])[0]
    method = rng.choice(["POST", "PUT"])
    target = path if method == "POST" else path + "/" + quote_path(name(rng))
    return method, target, {"Content-Type": "application/vnd.kubernetes.protobuf",
                            "Accept": rng.choice(["application/vnd.kubernetes.protobuf", "application/json"])}, bytes(data)


def encode_varint(value):
    out = b""
    while value >= 0x80:
        out += bytes([(value & 0x7F) | 0x80])
        value >>= 7
    return out + bytes([value])


def json_patch_ops(rng):
    ops = []
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(["add", "remove", "replace", "move", "copy", "test", "bogus"])
        pointer = rng.choice(["/data/a", "/data/-", "/metadata/labels/x", "/metadata", "/metadata/name", "/spec/-",
                              "/spec/template/spec/containers/0", "/spec/template/spec/containers/99999999999999999999",
                              "/spec/template/spec/containers/-1", "/x/-", "/", "", "/~2", "/a~1b", "/data/" + "a" * 300,
                              "/metadata/resourceVersion", "/apiVersion", "/kind", "/status"])
        entry = {"op": op, "path": pointer}
        if op in ("add", "replace", "test"):
            entry["value"] = random_value(rng)
        if op in ("move", "copy"):
            entry["from"] = rng.choice(["/data", "/metadata", "/spec", "/", "/x"])
        if rng.random() < 0.1:
            entry = random_value(rng)
        ops.append(entry)
    if rng.random() < 0.05:
        ops = [{"op": "copy", "from": "/data", "path": "/data/c%d" % i} for i in range(30)]
    return ops


def patch(rng):
    path, _ = valid_object(rng)
    target = path + "/" + quote_path(name(rng)) + rng.choice(["", "", "", "/status", "/scale", "/x"])
    kind = rng.choice(["json", "merge", "strategic", "apply", "bogus"])
    if kind == "json":
        body, content_type = json.dumps(json_patch_ops(rng)), "application/json-patch+json"
    elif kind == "merge":
        body, content_type = json.dumps(mutate_tree(rng, {"metadata": {"labels": {"a": "b"}}, "data": {"a": None}})), "application/merge-patch+json"
    elif kind == "strategic":
        directive = rng.choice([{"$patch": "replace"}, {"$patch": "delete"}, {"$patch": "bogus"},
                                {"$retainKeys": ["nonexistent"]}, {"$retainKeys": "x"},
                                {"$setElementOrder/containers": [{"name": "z"}]},
                                {"$deleteFromPrimitiveList/finalizers": ["a"]}, {"metadata": None},
                                {"spec": {"template": {"spec": {"containers": [{"$patch": "delete", "name": "c"}]}}}},
                                {"metadata": {"resourceVersion": rng.choice(["1", "0", "-1", "x", "99999999999999999999"])}}])
        body, content_type = json.dumps(mutate_tree(rng, directive) if rng.random() < 0.3 else directive), "application/strategic-merge-patch+json"
    elif kind == "apply":
        _, document = valid_object(rng, object_name=target.split("/")[6] if target.count("/") > 6 else "fz-0")
        if rng.random() < 0.6:
            document = mutate_tree(rng, document)
        body = json.dumps(document) if rng.random() < 0.5 else "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fz-0}\n" + rng.choice(["data: {a: b}\n", "data: [1]\n", "x: *y\n"])
        content_type = "application/apply-patch+yaml"
        target += "?fieldManager=" + quote_path(rng.choice(["fuzz", "", "a" * 200, "\x00"])) + rng.choice(["", "&force=true", "&force=x"])
    else:
        body, content_type = "{}", rng.choice(["application/x-patch", "text/plain", "application/json-patch+json; charset=x"])
    return "PATCH", target, {"Content-Type": content_type}, body.encode("utf-8", "surrogatepass")


def path_case(rng):
    parts = rng.choice([
        ["api", "v1", "namespaces", "fuzz", "configmaps", name(rng)],
        ["api", "v1", rng.choice(WEIRD_STRINGS[:30])],
        ["apis", rng.choice(["apps", "x", "", ".."]), rng.choice(["v1", "v0", ""]), "namespaces", "fuzz", "deployments"],
        ["api", "v1", "namespaces", name(rng), rng.choice(["pods", "configmaps", "secrets"]), name(rng), rng.choice(["status", "log", "exec", "binding", "eviction", "proxy", "x", ""])],
        ["apis", "fuzz.example.com", "v1", "widgets"],
        ["openapi", rng.choice(["v2", "v3", "v3/api/v1", "v3/apis/x/v1", "v3/../../"])],
        [rng.choice(["healthz", "readyz", "livez", "version", "metrics", "api", "apis", ".well-known", "openid", "logs"])],
        ["api", "v1", "watch", "namespaces", "fuzz", "configmaps"],
    ])
    path = "/" + "/".join(quote_path(p) if rng.random() < 0.8 else p for p in parts)
    roll = rng.random()
    if roll < 0.1:
        path = path.replace("/", "//", 1)
    elif roll < 0.2:
        path += "/" + "a" * rng.choice([300, 5000])
    elif roll < 0.25:
        path = path + "/%2e%2e/%2e%2e/secrets"
    method = rng.choice(["GET", "GET", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "POST"])
    return method, path, {}, b"{}" if method == "POST" else b""


QUERY_VALUES = {
    "labelSelector": ["a=b", "a in (b,c)", "!a", "a notin ()", "a==b,c!=d", "(((", "a=" + "b" * 70, "a,b,c,", "a in (" + ",".join("x%d" % i for i in range(300)) + ")", "=", "a=b=c"],
    "fieldSelector": ["metadata.name=fz-0", "metadata.namespace!=x", "spec.nodeName=", "status.phase=Running", "x=y", "metadata.name", "a=b,c=d", "metadata.name=\x00"],
    "limit": ["-1", "0", "1", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e3", "x", ""],
    "continue": ["", "x", base64.b64encode(b'{"v":"meta.k8s.io/v1","rv":-1,"start":"\x00"}').decode(), base64.b64encode(b"{}").decode(), "%%%"],
    "resourceVersion": ["0", "1", "-1", "x", "99999999999999999999", "9223372036854775807", ""],
    "resourceVersionMatch": ["Exact", "NotOlderThan", "x", ""],
    "timeoutSeconds": ["1", "0", "-1", "99999999999999999999"],
    "dryRun": ["All", "x", ""],
    "fieldValidation": ["Strict", "Warn", "Ignore", "x"],
    "propagationPolicy": ["Foreground", "Background", "Orphan", "x"],
    "gracePeriodSeconds": ["0", "-1", "9223372036854775807", "x"],
    "pretty": ["true", "x"],
    "fieldManager": ["a" * 200, "\x00", ""],
    "allowWatchBookmarks": ["true", "x"],
    "sendInitialEvents": ["true", "false", "x"],
    "watch": ["1", "true", "x", "0"],
    "orphanDependents": ["true", "x"],
    "force": ["true", "x"],
    "as": ["Table", "x"],
}


def query_case(rng):
    path = rng.choice(KINDS)[0]
    if rng.random() < 0.3:
        path += "/" + quote_path(name(rng))
    pairs = []
    for _ in range(rng.randint(1, 5)):
        key = rng.choice(list(QUERY_VALUES) + ["x", "", "labelSelector"])
        value = rng.choice(QUERY_VALUES.get(key, ["1"]))
        pairs.append(quote_path(key) + "=" + quote_path(value))
    if any(p.startswith("watch=") for p in pairs):
        # A watch ends after a second (the first timeoutSeconds counts, as in kube-apiserver).
        pairs = ["timeoutSeconds=1"] + [p for p in pairs if not p.startswith("timeoutSeconds=")]
    method = rng.choice(["GET", "GET", "GET", "DELETE"])
    return method, path + "?" + "&".join(pairs), {}, b""


ACCEPTS = ["application/json", "application/vnd.kubernetes.protobuf", "application/yaml", "*/*", "text/html",
           "application/json;as=Table;v=v1;g=meta.k8s.io", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
           "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io", "application/json;as=x;v=y;g=z",
           "application/json;q=0", ";;;", "a" * 5000, "application/json, application/vnd.kubernetes.protobuf;q=0.5",
           "application/vnd.kubernetes.protobuf;stream=watch", "application/json;stream=watch"]


def header_case(rng):
    method, path, headers, body = rng.choice([json_body, patch, query_case])(rng)
    headers = dict(headers)
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.3:
            headers["Accept"] = rng.choice(ACCEPTS)
        elif roll < 0.45:
            headers["Content-Type"] = rng.choice(["", "application/json; charset=utf-16", "multipart/form-data", "application/vnd.kubernetes.protobuf;x=y", ";", "a/b/c"])
        elif roll < 0.6:
            headers["Impersonate-User"] = rng.choice(["system:admin", "", "x", "system:serviceaccount:fuzz:default", "\x7f"])
            if rng.random() < 0.5:
                headers["Impersonate-Group"] = rng.choice(["system:masters", "x", ""])
            if rng.random() < 0.3:
                headers["Impersonate-Extra-" + rng.choice(["scopes", "a%20b", "%zz", ""])] = "x"
        elif roll < 0.7:
            headers["Authorization"] = rng.choice(["Bearer ", "Bearer x", "Basic YTpi", "Bearer " + "a" * 4000, "x"])
        elif roll < 0.8:
            headers["X-Forwarded-For"] = rng.choice(["1.2.3.4", "x", "::1, 10.0.0.1", "a" * 1000])
        elif roll < 0.9:
            headers["Content-Encoding"] = rng.choice(["gzip", "br", "x"])
        else:
            headers[rng.choice(["X-A", "Expect", "Upgrade", "Connection", "TE", "Accept-Encoding"])] = rng.choice(["100-continue", "websocket", "h2c", "trailers", "gzip", "x"])
    return method, path, headers, body


GENERATORS = [(json_body, 22), (yaml_body, 8), (patch, 22), (path_case, 12), (query_case, 16), (header_case, 12)]


def generate(rng, protobuf_samples):
    roll = rng.randrange(100)
    if roll < 8:
        return protobuf_body(rng, protobuf_samples)
    roll -= 8
    for generator, weight in GENERATORS:
        if roll < weight:
            return generator(rng)
        roll -= weight
    return json_body(rng)
