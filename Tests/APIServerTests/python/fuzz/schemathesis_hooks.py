"""Schemathesis hooks for fuzzing Skiff from its own /openapi/v3 documents (loaded with
SCHEMATHESIS_HOOKS=schemathesis_hooks): requests land in the `fuzz` namespace half the time
(the other half in generated ones), never touch the canaries or the namespaces every cluster
needs, never hold a watch open; and one check states what every answer must be."""
import json

import schemathesis

PROTECTED = {"canary", "default", "kube-system", "kube-public", "kube-node-lease", "fuzz"}


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if not path_parameters:
        return path_parameters
    if "namespace" in path_parameters:
        value = str(path_parameters["namespace"])
        path_parameters["namespace"] = "fuzz" if len(value) % 2 == 0 or value in PROTECTED else value
    if "name" in path_parameters and str(path_parameters["name"]) in PROTECTED:
        path_parameters["name"] = "fz-generated"
    return path_parameters


@schemathesis.hook
def map_query(context, query):
    if query:
        # A watch would stream until its timeout; lists and gets are what is fuzzed here.
        query.pop("watch", None)
        query.pop("sendInitialEvents", None)
        if "timeoutSeconds" in query:
            query["timeoutSeconds"] = 1
    return query


@schemathesis.check
def kubernetes_answer(ctx, response, case):
    """No 5xx but kube-apiserver's own 504 (a resourceVersion too new), and every refusal a Status."""
    code = response.status_code
    if code >= 500 and code != 504:
        raise AssertionError(f"server error {code}: {response.text[:300]}")
    if code >= 400:
        try:
            document = json.loads(response.content)
        except ValueError:
            raise AssertionError(f"{code} without a JSON Status: {response.content[:200]!r}")
        if not (isinstance(document, dict) and document.get("kind") == "Status" and document.get("code") == code):
            raise AssertionError(f"{code} whose body is not its Status: {response.content[:200]!r}")
