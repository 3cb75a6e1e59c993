"""RBAC through Python's `kubernetes` client: an admin binds a token user to `view` in one
namespace; the user reads there (200), is refused elsewhere and for writes (403 Status), and
the access reviews answer accordingly.

Usage: rbac_client.py KUBECONFIG SERVER_URL CA_FILE USER_TOKEN USER_NAME
Prints one line per check and exits non-zero at the first failure.
"""
import sys
import warnings

from kubernetes import client, config

from checks import check, status_of

warnings.filterwarnings("ignore")
kubeconfig, url, ca_file, token, user = sys.argv[1:6]
config.load_kube_config(kubeconfig)
admin_core = client.CoreV1Api()
admin_rbac = client.RbacAuthorizationV1Api()
admin_authz = client.AuthorizationV1Api()


for name in ["py-team", "py-other"]:
    admin_core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
admin_rbac.create_namespaced_role_binding("py-team", client.V1RoleBinding(
    metadata=client.V1ObjectMeta(name="viewer"),
    role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="view"),
    subjects=[client.RbacV1Subject(kind="User", name=user, api_group="rbac.authorization.k8s.io")]))
admin_core.create_namespaced_config_map("py-team", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings")))

user_config = client.Configuration()
user_config.host = url
user_config.ssl_ca_cert = ca_file
user_config.api_key = {"authorization": "Bearer " + token}
user_core = client.CoreV1Api(client.ApiClient(user_config))
user_authz = client.AuthorizationV1Api(client.ApiClient(user_config))

names = [m.metadata.name for m in user_core.list_namespaced_config_map("py-team").items]
check("settings" in names, "the viewer lists config maps in its namespace")
code, body = status_of(lambda: user_core.list_namespaced_config_map("py-other"))
check(code == 403 and body["reason"] == "Forbidden", "listing elsewhere is a 403 Forbidden Status")
check(body["message"] == f'configmaps is forbidden: User "{user}" cannot list resource "configmaps" in API group "" in the namespace "py-other"',
      "the message is kube-apiserver's: " + body["message"])
code, body = status_of(lambda: user_core.create_namespaced_config_map(
    "py-team", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="mine"))))
check(code == 403 and body["details"]["kind"] == "configmaps", "creating is refused")
code, _ = status_of(lambda: user_core.read_namespaced_secret("default-token", "py-team"))
check(code == 403, "view does not read secrets")

review = user_authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
    spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
        namespace="py-team", verb="watch", resource="pods"))))
check(review.status.allowed, "SelfSubjectAccessReview: the viewer may watch pods")
review = admin_authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
    user=user, resource_attributes=client.V1ResourceAttributes(namespace="py-other", verb="get", resource="pods"))))
check(not review.status.allowed, "SubjectAccessReview: not in another namespace")
review = admin_authz.create_namespaced_local_subject_access_review("py-team", client.V1LocalSubjectAccessReview(
    spec=client.V1SubjectAccessReviewSpec(user=user, resource_attributes=client.V1ResourceAttributes(
        namespace="py-team", verb="list", resource="deployments", group="apps"))))
check(review.status.allowed and "view" in review.status.reason, "LocalSubjectAccessReview names the binding: " + review.status.reason)
rules = user_authz.create_self_subject_rules_review(client.V1SelfSubjectRulesReview(
    spec=client.V1SelfSubjectRulesReviewSpec(namespace="py-team")))
check(any("configmaps" in (r.resources or []) and "list" in r.verbs for r in rules.status.resource_rules),
      "SelfSubjectRulesReview lists the view rules")
code, _ = status_of(lambda: user_authz.create_subject_access_review(client.V1SubjectAccessReview(
    spec=client.V1SubjectAccessReviewSpec(user="x", resource_attributes=client.V1ResourceAttributes(verb="get", resource="pods")))))
check(code == 403, "a plain user may not ask about others")
print("OK")
