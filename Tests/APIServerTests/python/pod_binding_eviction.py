"""Binding and eviction with Python's `kubernetes` client against a running `skiff server`.

Usage: pod_binding_eviction.py KUBECONFIG
What kube-scheduler and `kubectl drain` rely on: pods/binding and the bindings resource assign a
pod once; pods/eviction honours the PodDisruptionBudget covering the pod (its status is written
here as kube-controller-manager's disruption controller would). Exits non-zero at the first failure.
"""
import json
import sys
import warnings

from kubernetes import client, config

from checks import check, status_of

warnings.filterwarnings("ignore")
config.load_kube_config(sys.argv[1])
v1 = client.CoreV1Api()
policy = client.PolicyV1Api()
ns = "drain"
v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))

# Discovery names both subresources with their kinds, create only.
resources = {r.name: r for r in v1.get_api_resources().resources}
check(resources["pods/binding"].kind == "Binding" and resources["pods/binding"].verbs == ["create"], "discovery lists pods/binding")
eviction = resources["pods/eviction"]
check((eviction.kind, eviction.group, eviction.version, eviction.verbs) == ("Eviction", "policy", "v1", ["create"]),
      "discovery lists pods/eviction as a policy/v1 Eviction")


def pod(name, labels):
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels),
                        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]))


for i in range(5):
    v1.create_namespaced_pod(ns, pod("web-%d" % i, {"app": "web"}))


def bind(name, node, body_name=None):
    body = client.V1Binding(metadata=client.V1ObjectMeta(name=body_name or name),
                            target=client.V1ObjectReference(kind="Node", name=node))
    # The answer is a Status, which the generated client would try to read as a Binding.
    return status_of(lambda: v1.create_namespaced_pod_binding(name, ns, body, _preload_content=False))


code, _ = bind("web-0", "node-a")
check(code == 200, "pods/binding assigns a pod: %s" % code)
p = v1.read_namespaced_pod("web-0", ns)
scheduled = [c for c in (p.status.conditions or []) if c.type == "PodScheduled"]
check(p.spec.node_name == "node-a" and scheduled and scheduled[0].status == "True",
      "the pod has spec.nodeName and PodScheduled=True")
code, status = bind("web-0", "node-b")
check(code == 409 and "already assigned to node \"node-a\"" in status["message"], "a second binding is a 409: %s %s" % (code, status))
code, status = bind("web-1", "node-b", body_name="web-2")
check(code == 400 and "does not match" in status["message"], "a Binding named for another pod is a 400: %s" % code)
code, status = bind("missing", "node-b")
check(code == 404, "binding a missing pod is a 404: %s" % code)
code, _ = status_of(lambda: v1.create_namespaced_binding(
    ns, client.V1Binding(metadata=client.V1ObjectMeta(name="web-1"), target=client.V1ObjectReference(kind="Node", name="node-b")),
    _preload_content=False))
check(code == 200 and v1.read_namespaced_pod("web-1", ns).spec.node_name == "node-b", "the bindings resource assigns a pod too")
for i in range(2, 5):
    bind("web-%d" % i, "node-a")

# Four pods run; web-4 stays Pending.
for i in range(4):
    v1.patch_namespaced_pod_status("web-%d" % i, ns, {"status": {"phase": "Running"}})

v1.create_namespaced_pod(ns, pod("lonely", {"app": "other"}))
v1.patch_namespaced_pod_status("lonely", ns, {"status": {"phase": "Running"}})


def evict(name, dry_run=False):
    options = client.V1DeleteOptions(dry_run=["All"]) if dry_run else None
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=ns), delete_options=options)
    return status_of(lambda: v1.create_namespaced_pod_eviction(name, ns, body, _preload_content=False))


def gone(name):
    code, _ = status_of(lambda: v1.read_namespaced_pod(name, ns))
    return code == 404


code, status = status_of(lambda: v1.create_namespaced_pod_eviction("lonely", ns, client.V1Eviction(
    metadata=client.V1ObjectMeta(name="lonely", namespace=ns), delete_options=client.V1DeleteOptions(propagation_policy="Sideways")),
    _preload_content=False))
check(code == 422 and not gone("lonely"), "an eviction's DeleteOptions are checked as a DELETE's: %s" % code)
code, _ = evict("lonely")
check(code == 200 and gone("lonely"), "a pod no budget covers is evicted (deleted)")

policy.create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
    metadata=client.V1ObjectMeta(name="web"),
    spec=client.V1PodDisruptionBudgetSpec(min_available=3, selector=client.V1LabelSelector(match_labels={"app": "web"}))))
code, status = evict("web-0")
check(code == 429 and "still being processed" in json.dumps(status), "a budget whose status lags its spec refuses: %s %s" % (code, status))


def budget_status(allowed):
    policy.patch_namespaced_pod_disruption_budget_status("web", ns, {"status": {
        "observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": 4, "desiredHealthy": 3, "expectedPods": 4}})


budget_status(1)
code, _ = evict("web-0", dry_run=True)
pdb = policy.read_namespaced_pod_disruption_budget("web", ns)
check(code == 200 and not gone("web-0") and pdb.status.disruptions_allowed == 1, "a dry-run eviction changes nothing")
code, _ = evict("web-0")
pdb = policy.read_namespaced_pod_disruption_budget("web", ns)
check(code == 200 and gone("web-0"), "the budget allows one disruption: web-0 is evicted")
check(pdb.status.disruptions_allowed == 0 and "web-0" in (pdb.status.disrupted_pods or {}),
      "the eviction spends the disruption and records the pod: %s" % pdb.status)
code, status = evict("web-1")
causes = [c.get("message", "") for c in (status or {}).get("details", {}).get("causes", [])]
check(code == 429 and status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
      and any("needs 3 healthy pods and has 4 currently" in c for c in causes),
      "a budget with no disruption left refuses with 429 and its reason: %s %s" % (code, status))
check(not gone("web-1"), "the refused pod stays")
code, _ = evict("web-4")
check(code == 200 and gone("web-4"), "a Pending pod is evicted whatever the budget says")
code, _ = evict("missing")
check(code == 404, "evicting a missing pod is a 404: %s" % code)

policy.create_namespaced_pod_disruption_budget(ns, client.V1PodDisruptionBudget(
    metadata=client.V1ObjectMeta(name="web-too"),
    spec=client.V1PodDisruptionBudgetSpec(max_unavailable=1, selector=client.V1LabelSelector(match_labels={"app": "web"}))))
budget_status(1)
code, status = evict("web-1")
check(code == 500 and "more than one PodDisruptionBudget" in status["message"], "two budgets covering a pod are a 500: %s" % code)
print("OK")
