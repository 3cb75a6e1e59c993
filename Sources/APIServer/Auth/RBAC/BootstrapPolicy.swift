/// The cluster roles and bindings every cluster starts with (kube-apiserver's bootstrap
/// policy, for the roles users and tools rely on). ``PolicyReconciler`` keeps them present.
public enum BootstrapPolicy {
    static let aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
    static let aggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit"
    static let aggregateToView = "rbac.authorization.k8s.io/aggregate-to-view"
    static let autoupdate = "rbac.authorization.kubernetes.io/autoupdate"

    static let readVerbs = ["get", "list", "watch"]
    static let writeVerbs = ["create", "delete", "deletecollection", "patch", "update"]
    static let allVerbs = readVerbs + writeVerbs

    static let clusterAdminRules = [
        PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]),
        PolicyRule(verbs: ["*"], nonResourceURLs: ["*"]),
    ]

    /// A cluster role: its rules, extra labels, and the labels it aggregates from.
    struct ClusterRole {
        var name: String
        var rules: [PolicyRule]
        var labels: [String: String] = [:]
        var aggregatesFrom: [String] = []
    }

    /// A cluster role binding to groups and users.
    struct Binding {
        var name: String
        var role: String
        var groups: [String] = []
        var users: [String] = []
        /// Service accounts in kube-system.
        var serviceAccounts: [String] = []
    }

    static let clusterRoles: [ClusterRole] = userFacingRoles + controlPlaneRoles + controllerManagerRoles

    static let bindings: [Binding] = userFacingBindings + controlPlaneBindings + controllerManagerBindings

    static let userFacingRoles: [ClusterRole] = [
        ClusterRole(name: "cluster-admin", rules: clusterAdminRules),
        ClusterRole(name: "admin", rules: [], aggregatesFrom: [aggregateToAdmin]),
        ClusterRole(name: "edit", rules: [], labels: [aggregateToAdmin: "true"], aggregatesFrom: [aggregateToEdit]),
        ClusterRole(name: "view", rules: [], labels: [aggregateToEdit: "true"], aggregatesFrom: [aggregateToView]),
        ClusterRole(name: "system:aggregate-to-admin", rules: [
            PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["localsubjectaccessreviews"]),
            PolicyRule(verbs: allVerbs, apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings", "roles"]),
        ], labels: [aggregateToAdmin: "true"]),
        ClusterRole(name: "system:aggregate-to-edit", rules: [
            PolicyRule(verbs: ["impersonate"], apiGroups: [""], resources: ["serviceaccounts"]),
            PolicyRule(verbs: writeVerbs, apiGroups: [""], resources: [
                "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
            PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["pods/eviction", "serviceaccounts/token"]),
            PolicyRule(verbs: writeVerbs, apiGroups: [""], resources: [
                "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale",
                "secrets", "serviceaccounts", "services", "services/proxy"]),
            PolicyRule(verbs: writeVerbs, apiGroups: ["apps"], resources: [
                "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale",
                "statefulsets", "statefulsets/scale"]),
            PolicyRule(verbs: writeVerbs, apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"]),
            PolicyRule(verbs: writeVerbs, apiGroups: ["batch"], resources: ["cronjobs", "jobs"]),
            PolicyRule(verbs: writeVerbs, apiGroups: ["policy"], resources: ["poddisruptionbudgets"]),
            PolicyRule(verbs: writeVerbs, apiGroups: ["networking.k8s.io"], resources: ["ingresses", "networkpolicies"]),
            PolicyRule(verbs: readVerbs + writeVerbs, apiGroups: ["coordination.k8s.io"], resources: ["leases"]),
            PolicyRule(verbs: writeVerbs, apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"]),
        ], labels: [aggregateToEdit: "true"]),
        ClusterRole(name: "system:aggregate-to-view", rules: [
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: [
                "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"]),
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: [
                "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"]),
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: ["namespaces"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["apps"], resources: [
                "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["batch"], resources: ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["events.k8s.io"], resources: ["events"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["policy"], resources: ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["networking.k8s.io"], resources: ["ingresses", "ingresses/status", "networkpolicies"]),
        ], labels: [aggregateToView: "true"]),
        ClusterRole(name: "system:discovery", rules: [
            PolicyRule(verbs: ["get"], nonResourceURLs: [
                "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]),
        ]),
        ClusterRole(name: "system:basic-user", rules: [
            PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
        ]),
        ClusterRole(name: "system:public-info-viewer", rules: [
            PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"]),
        ]),
        ClusterRole(name: "system:service-account-issuer-discovery", rules: [
            PolicyRule(verbs: ["get"], nonResourceURLs: [
                "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"]),
        ]),
        ClusterRole(name: "system:auth-delegator", rules: [
            PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"]),
        ]),
    ]

    static let userFacingBindings: [Binding] = [
        Binding(name: "cluster-admin", role: "cluster-admin", groups: ["system:masters"]),
        Binding(name: "system:discovery", role: "system:discovery", groups: ["system:authenticated"]),
        Binding(name: "system:basic-user", role: "system:basic-user", groups: ["system:authenticated"]),
        Binding(name: "system:public-info-viewer", role: "system:public-info-viewer",
                groups: ["system:authenticated", "system:unauthenticated"]),
        Binding(name: "system:service-account-issuer-discovery", role: "system:service-account-issuer-discovery",
                groups: ["system:serviceaccounts"]),
    ]

    /// The labels and annotation every bootstrap object carries.
    static let labels = ["kubernetes.io/bootstrapping": "rbac-defaults"]
    static let annotations = [autoupdate: "true"]

    /// A role as a stored ClusterRole.
    static func object(_ role: ClusterRole) -> JSON {
        var object = JSON.newObject(apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", name: role.name,
                                    labels: labels.merging(role.labels) { $1 }.mapValues { .string($0) })
        object[path: ["metadata", "annotations"]] = .object(annotations.mapValues { .string($0) })
        object["rules"] = .array(role.rules.map(\.json))
        if !role.aggregatesFrom.isEmpty {
            object["aggregationRule"] = ["clusterRoleSelectors": .array(role.aggregatesFrom.map { ["matchLabels": [$0: "true"]] })]
        }
        return object
    }

    /// A binding as a stored ClusterRoleBinding.
    static func object(_ binding: Binding) -> JSON {
        var object = JSON.newObject(apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", name: binding.name,
                                    labels: labels.mapValues { .string($0) })
        object[path: ["metadata", "annotations"]] = .object(annotations.mapValues { .string($0) })
        object["roleRef"] = ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(binding.role)]
        object["subjects"] = .array(binding.groups.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string($0)] }
                                    + binding.users.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": .string($0)] }
                                    + binding.serviceAccounts.map { ["kind": "ServiceAccount", "name": .string($0), "namespace": "kube-system"] })
        return object
    }
}
