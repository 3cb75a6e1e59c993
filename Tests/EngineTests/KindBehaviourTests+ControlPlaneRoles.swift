@testable import APIServer
import Testing

/// The bootstrap policy's control-plane roles: each component, and with
/// `--use-service-account-credentials` each controller's service account, may do its work and
/// no more (answered by SubjectAccessReview, as RBAC decides the requests themselves).
extension KindBehaviourTests {
    /// Run by ``tokenRequestsAndReviewsAnswerWithoutStoringAnything()`` on its server (one server fewer to start).
    static func checkControlPlaneRoles(_ api: InProcessAPI) async {
        func allowed(_ user: String, _ verb: String, _ resource: String, group: String = "", subresource: String = "",
                     namespace: String = "default") async -> Bool? {
            await api.request(.POST, "/apis/authorization.k8s.io/v1/subjectaccessreviews", [
                "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "spec": ["user": .string(user), "resourceAttributes": ["verb": .string(verb), "group": .string(group), "resource": .string(resource),
                                                                       "subresource": .string(subresource), "namespace": .string(namespace)]],
            ]).body[path: ["status", "allowed"]]?.boolValue
        }
        let scheduler = "system:kube-scheduler", manager = "system:kube-controller-manager"
        func controller(_ name: String) -> String { "system:serviceaccount:kube-system:" + name }

        #expect(await allowed(scheduler, "create", "pods", subresource: "binding") == true)
        #expect(await allowed(scheduler, "update", "persistentvolumeclaims") == true, "system:volume-scheduler")
        #expect(await allowed(scheduler, "create", "pods") == false)
        #expect(await allowed(manager, "create", "serviceaccounts", subresource: "token", namespace: "kube-system") == true)
        #expect(await allowed(manager, "watch", "replicasets", group: "apps") == true)
        #expect(await allowed(manager, "create", "replicasets", group: "apps") == false, "the manager writes through its controllers' accounts")
        #expect(await allowed(controller("deployment-controller"), "create", "replicasets", group: "apps") == true)
        #expect(await allowed(controller("deployment-controller"), "create", "pods") == false)
        #expect(await allowed(controller("replicaset-controller"), "create", "pods") == true)
        #expect(await allowed(controller("disruption-controller"), "get", "deployments", group: "apps", subresource: "scale") == true)
        #expect(await allowed(controller("generic-garbage-collector"), "delete", "widgets", group: "example.com") == true)
        #expect(await allowed(controller("job-controller"), "delete", "secrets") == false)
        #expect(await allowed(controller("node-controller"), "create", "pods", subresource: "eviction") == true)
        // The admission policy status controller patches the status (seen with kube-controller-manager 1.35).
        #expect(await allowed(controller("validatingadmissionpolicy-status-controller"), "patch", "validatingadmissionpolicies",
                              group: "admissionregistration.k8s.io", subresource: "status", namespace: "") == true)
        #expect(await allowed("system:serviceaccount:default:deployment-controller", "create", "replicasets", group: "apps") == false,
                "only the kube-system account is bound")
    }
}
