/// The roles of kube-controller-manager, as kube-apiserver's bootstrap policy grants them:
/// `system:kube-controller-manager` for the manager's own identity (`skiff kubeconfig --user
/// system:kube-controller-manager`), and with `--use-service-account-credentials` one
/// `system:controller:NAME` role per controller, bound to the service account
/// `kube-system/NAME` the controller runs as.
extension BootstrapPolicy {
    private static let core = [""]
    private static let crud = ["create", "delete", "get", "list", "patch", "update", "watch"]

    private static func rule(_ verbs: [String], _ groups: [String], _ resources: [String], names: [String] = []) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: groups, resources: resources, resourceNames: names)
    }

    /// Every controller records events.
    private static let events = rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"])

    static let controllerManagerRoles: [ClusterRole] = [
        ClusterRole(name: "system:kube-controller-manager", rules: [
            events,
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "update"], ["coordination.k8s.io"], ["leases"], names: ["kube-controller-manager"]),
            rule(["create"], core, ["endpoints"]),
            rule(["get", "update"], core, ["endpoints"], names: ["kube-controller-manager"]),
            rule(["create"], core, ["secrets", "serviceaccounts"]),
            rule(["delete"], core, ["secrets"]),
            rule(["get"], core, ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            rule(["update"], core, ["secrets", "serviceaccounts"]),
            rule(["create"], core, ["serviceaccounts/token"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            // The shared informers of every controller, and the garbage collector's metadata informers.
            rule(["list", "watch"], ["*"], ["*"]),
        ]),
    ] + controllers.map { name, rules in ClusterRole(name: "system:controller:" + name, rules: rules + [events]) }

    static let controllerManagerBindings: [Binding] =
        [Binding(name: "system:kube-controller-manager", role: "system:kube-controller-manager", users: ["system:kube-controller-manager"])]
        + controllers.map { name, _ in
            Binding(name: "system:controller:" + name, role: "system:controller:" + name, serviceAccounts: [name])
        }

    /// Each controller's service account name and rules (events are added to all).
    static let controllers: [(String, [PolicyRule])] = [
        ("attachdetach-controller", [
            rule(["create", "delete", "get", "list", "watch"], ["storage.k8s.io"], ["volumeattachments"]),
            rule(readVerbs, core, ["persistentvolumeclaims", "persistentvolumes", "nodes"]),
            rule(["patch", "update"], core, ["nodes/status"]),
            rule(["list", "watch"], core, ["pods"]),
            rule(readVerbs, ["storage.k8s.io"], ["csidrivers", "csinodes"]),
        ]),
        ("certificate-controller", [
            rule(["delete", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
            rule(["update"], ["certificates.k8s.io"], ["certificatesigningrequests/approval", "certificatesigningrequests/status"]),
            rule(["approve"], ["certificates.k8s.io"], ["signers"], names: ["kubernetes.io/kube-apiserver-client-kubelet"]),
            rule(["approve"], ["certificates.k8s.io"], ["signers"], names: ["kubernetes.io/kubelet-serving", "kubernetes.io/kube-apiserver-client", "kubernetes.io/legacy-unknown"]),
            rule(["sign"], ["certificates.k8s.io"], ["signers"],
                 names: ["kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving", "kubernetes.io/legacy-unknown"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        ]),
        ("clusterrole-aggregation-controller", [
            rule(["escalate", "get", "list", "patch", "update", "watch"], ["rbac.authorization.k8s.io"], ["clusterroles"]),
        ]),
        ("cronjob-controller", [
            rule(["get", "list", "update", "watch"], ["batch"], ["cronjobs"]),
            rule(crud, ["batch"], ["jobs"]),
            rule(["update"], ["batch"], ["cronjobs/status", "cronjobs/finalizers"]),
            rule(["delete", "list"], core, ["pods"]),
        ]),
        ("daemon-set-controller", [
            rule(readVerbs, ["apps", "extensions"], ["daemonsets"]),
            rule(["update"], ["apps", "extensions"], ["daemonsets/status", "daemonsets/finalizers"]),
            rule(["list", "watch"], core, ["nodes"]),
            rule(["create", "delete", "list", "patch", "watch"], core, ["pods"]),
            rule(["create"], core, ["pods/binding"]),
            rule(crud, ["apps"], ["controllerrevisions"]),
        ]),
        ("deployment-controller", [
            rule(["get", "list", "update", "watch"], ["apps", "extensions"], ["deployments"]),
            rule(["update"], ["apps", "extensions"], ["deployments/status", "deployments/finalizers"]),
            rule(crud, ["apps", "extensions"], ["replicasets"]),
            rule(["get", "list", "update", "watch"], core, ["pods"]),
        ]),
        ("disruption-controller", [
            rule(readVerbs, ["apps", "extensions"], ["deployments", "replicasets", "statefulsets"]),
            rule(readVerbs, core, ["replicationcontrollers", "pods"]),
            rule(readVerbs, ["policy"], ["poddisruptionbudgets"]),
            rule(["update"], ["policy"], ["poddisruptionbudgets/status"]),
            rule(["get"], ["*"], ["*/scale"]),
            rule(["patch", "update"], core, ["pods/status"]),
        ]),
        ("endpoint-controller", [
            rule(readVerbs, core, ["services", "pods"]),
            rule(["create", "delete", "get", "list", "update"], core, ["endpoints"]),
            rule(["create"], core, ["endpoints/restricted"]),
        ]),
        ("endpointslice-controller", [
            rule(readVerbs, core, ["services", "pods", "nodes"]),
            rule(["create", "delete", "get", "list", "update"], ["discovery.k8s.io"], ["endpointslices"]),
        ]),
        ("endpointslicemirroring-controller", [
            rule(readVerbs, core, ["services", "endpoints"]),
            rule(["create", "delete", "get", "list", "update"], ["discovery.k8s.io"], ["endpointslices"]),
        ]),
        ("ephemeral-volume-controller", [
            rule(readVerbs, core, ["pods"]),
            rule(["update"], core, ["pods/finalizers"]),
            rule(["create", "get", "list", "watch"], core, ["persistentvolumeclaims"]),
        ]),
        ("expand-controller", [
            rule(["get", "list", "patch", "update", "watch"], core, ["persistentvolumes"]),
            rule(["patch", "update"], core, ["persistentvolumeclaims/status"]),
            rule(readVerbs, core, ["persistentvolumeclaims"]),
            rule(readVerbs, ["storage.k8s.io"], ["storageclasses"]),
            rule(["get"], core, ["endpoints", "services", "secrets"]),
        ]),
        ("generic-garbage-collector", [
            rule(["delete", "get", "list", "patch", "update", "watch"], ["*"], ["*"]),
        ]),
        ("horizontal-pod-autoscaler", [
            rule(readVerbs, ["autoscaling"], ["horizontalpodautoscalers"]),
            rule(["update"], ["autoscaling"], ["horizontalpodautoscalers/status"]),
            rule(["get", "update"], ["*"], ["*/scale"]),
            rule(["list"], core, ["pods"]),
            rule(["list"], ["metrics.k8s.io"], ["pods"]),
            rule(["get", "list"], ["custom.metrics.k8s.io", "external.metrics.k8s.io"], ["*"]),
        ]),
        ("job-controller", [
            rule(["get", "list", "patch", "update", "watch"], ["batch"], ["jobs"]),
            rule(["update", "patch"], ["batch"], ["jobs/status", "jobs/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], core, ["pods"]),
        ]),
        ("legacy-service-account-token-cleaner", [
            rule(["get"], core, ["configmaps"], names: ["kube-apiserver-legacy-service-account-token-tracking"]),
            rule(["list", "watch"], core, ["pods"]),
            rule(["delete", "patch", "list", "watch"], core, ["secrets"]),
        ]),
        ("namespace-controller", [
            rule(["delete", "get", "list", "watch"], core, ["namespaces"]),
            rule(["update"], core, ["namespaces/finalize", "namespaces/status"]),
            rule(["delete", "deletecollection", "get", "list"], ["*"], ["*"]),
        ]),
        ("node-controller", [
            rule(["delete", "get", "list", "patch", "update"], core, ["nodes"]),
            rule(["patch", "update"], core, ["nodes/status", "pods/status"]),
            rule(["delete", "get", "list"], core, ["pods"]),
            rule(["create"], core, ["pods/eviction"]),
        ]),
        ("persistent-volume-binder", [
            rule(["create", "delete", "get", "list", "update", "watch"], core, ["persistentvolumes"]),
            rule(["update"], core, ["persistentvolumes/status", "persistentvolumeclaims/status"]),
            rule(["get", "list", "update", "watch"], core, ["persistentvolumeclaims"]),
            rule(["create", "delete", "get", "list", "watch"], core, ["pods"]),
            rule(readVerbs, ["storage.k8s.io"], ["storageclasses"]),
            rule(["create", "delete", "get", "update"], core, ["endpoints"]),
            rule(["create", "delete", "get"], core, ["services"]),
            rule(["get"], core, ["secrets"]),
            rule(["get", "list"], core, ["nodes"]),
        ]),
        ("pod-garbage-collector", [
            rule(["delete", "list", "watch"], core, ["pods"]),
            rule(["patch"], core, ["pods/status"]),
            rule(readVerbs, core, ["nodes"]),
        ]),
        ("pv-protection-controller", [
            rule(["get", "list", "update", "watch"], core, ["persistentvolumes"]),
        ]),
        ("pvc-protection-controller", [
            rule(["get", "list", "update", "watch"], core, ["persistentvolumeclaims"]),
            rule(readVerbs, core, ["pods"]),
        ]),
        ("replicaset-controller", [
            rule(["get", "list", "update", "watch"], ["apps", "extensions"], ["replicasets"]),
            rule(["update"], ["apps", "extensions"], ["replicasets/status", "replicasets/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], core, ["pods"]),
        ]),
        ("replication-controller", [
            rule(["get", "list", "update", "watch"], core, ["replicationcontrollers"]),
            rule(["update"], core, ["replicationcontrollers/status", "replicationcontrollers/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], core, ["pods"]),
        ]),
        ("resourcequota-controller", [
            rule(["list", "watch"], ["*"], ["*"]),
            rule(["update"], core, ["resourcequotas/status"]),
        ]),
        ("root-ca-cert-publisher", [
            rule(["create", "update"], core, ["configmaps"]),
        ]),
        ("route-controller", [
            rule(["list"], core, ["nodes"]),
            rule(["patch"], core, ["nodes/status"]),
        ]),
        ("service-account-controller", [
            rule(["create"], core, ["serviceaccounts"]),
        ]),
        ("service-cidrs-controller", [
            rule(["get", "list", "patch", "update", "watch"], ["networking.k8s.io"], ["servicecidrs"]),
            rule(["patch", "update"], ["networking.k8s.io"], ["servicecidrs/finalizers", "servicecidrs/status"]),
            rule(readVerbs, ["networking.k8s.io"], ["ipaddresses"]),
        ]),
        ("service-controller", [
            rule(readVerbs, core, ["services"]),
            rule(["patch", "update"], core, ["services/status"]),
            rule(["list", "watch"], core, ["nodes"]),
        ]),
        ("statefulset-controller", [
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], core, ["pods"]),
            rule(readVerbs, ["apps"], ["statefulsets"]),
            rule(["update"], ["apps"], ["statefulsets/status", "statefulsets/finalizers"]),
            rule(["create", "get", "patch", "update", "delete"], core, ["persistentvolumeclaims"]),
            rule(crud, ["apps"], ["controllerrevisions"]),
        ]),
        ("ttl-after-finished-controller", [
            rule(["delete", "get", "list", "watch"], ["batch"], ["jobs"]),
        ]),
        ("ttl-controller", [
            rule(["list", "patch", "update", "watch"], core, ["nodes"]),
        ]),
        ("validatingadmissionpolicy-status-controller", [
            rule(readVerbs, ["admissionregistration.k8s.io"], ["validatingadmissionpolicies"]),
            rule(["get", "patch", "update"], ["admissionregistration.k8s.io"], ["validatingadmissionpolicies/status"]),
        ]),
    ]
}
