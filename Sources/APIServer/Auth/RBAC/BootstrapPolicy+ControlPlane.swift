/// The roles of the control-plane components that run beside the API server, as kube-apiserver's
/// bootstrap policy grants them: kube-scheduler signs in as `system:kube-scheduler`
/// (`skiff kubeconfig --user system:kube-scheduler`) and gets `system:kube-scheduler` and
/// `system:volume-scheduler`. kube-proxy (`system:kube-proxy`) gets `system:node-proxier`; the
/// server's own kubelet-client certificate (``kubeletClientUser``) gets
/// `system:kubelet-api-admin`, which kubelets authorizing by webhook ask about.
extension BootstrapPolicy {
    /// The user of the certificate the server presents to kubelets.
    static let kubeletClientUser = "kube-apiserver-kubelet-client"

    static let controlPlaneRoles: [ClusterRole] = [
        ClusterRole(name: "system:kube-scheduler", rules: [
            PolicyRule(verbs: ["create", "patch", "update"], apiGroups: ["", "events.k8s.io"], resources: ["events"]),
            PolicyRule(verbs: ["create"], apiGroups: ["coordination.k8s.io"], resources: ["leases"]),
            PolicyRule(verbs: ["get", "update"], apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: ["kube-scheduler"]),
            PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["endpoints"]),
            PolicyRule(verbs: ["get", "update"], apiGroups: [""], resources: ["endpoints"], resourceNames: ["kube-scheduler"]),
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: ["nodes"]),
            PolicyRule(verbs: ["delete", "get", "list", "watch"], apiGroups: [""], resources: ["pods"]),
            PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["bindings", "pods/binding"]),
            PolicyRule(verbs: ["patch", "update"], apiGroups: [""], resources: ["pods/status"]),
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: ["replicationcontrollers", "services"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["apps", "extensions"], resources: ["replicasets"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["apps"], resources: ["statefulsets"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["policy"], resources: ["poddisruptionbudgets"]),
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: ["persistentvolumeclaims", "persistentvolumes"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
            PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["storage.k8s.io"], resources: ["csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"]),
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: ["namespaces"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["resource.k8s.io"], resources: ["deviceclasses", "resourceclaims", "resourceslices"]),
            PolicyRule(verbs: ["patch", "update"], apiGroups: ["resource.k8s.io"], resources: ["resourceclaims/status"]),
        ]),
        ClusterRole(name: "system:volume-scheduler", rules: [
            PolicyRule(verbs: ["get", "list", "patch", "update", "watch"], apiGroups: [""], resources: ["persistentvolumes", "persistentvolumeclaims"]),
            PolicyRule(verbs: readVerbs, apiGroups: ["storage.k8s.io"], resources: ["storageclasses"]),
        ]),
        ClusterRole(name: "system:node-proxier", rules: [
            PolicyRule(verbs: ["list", "watch"], apiGroups: [""], resources: ["endpoints", "services"]),
            PolicyRule(verbs: readVerbs, apiGroups: [""], resources: ["nodes"]),
            PolicyRule(verbs: ["create", "patch", "update"], apiGroups: ["", "events.k8s.io"], resources: ["events"]),
            PolicyRule(verbs: ["list", "watch"], apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"]),
        ]),
        // A kubelet joining with a bootstrap token asks for its client certificate; a node
        // renews its own. kube-apiserver has the roles; the bindings below are kubeadm's.
        ClusterRole(name: "system:node-bootstrapper", rules: [
            PolicyRule(verbs: ["create", "get", "list", "watch"], apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"]),
        ]),
        ClusterRole(name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", rules: [
            PolicyRule(verbs: ["create"], apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/nodeclient"]),
        ]),
        ClusterRole(name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", rules: [
            PolicyRule(verbs: ["create"], apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/selfnodeclient"]),
        ]),
        ClusterRole(name: "system:kubelet-api-admin", rules: [
            PolicyRule(verbs: ["get", "list", "watch", "proxy"], apiGroups: [""], resources: ["nodes"]),
            PolicyRule(verbs: ["*"], apiGroups: [""], resources: ["nodes/log", "nodes/stats", "nodes/metrics", "nodes/spec",
                                                                   "nodes/proxy", "nodes/configz", "nodes/healthz", "nodes/pods"]),
        ]),
    ]

    static let controlPlaneBindings: [Binding] = [
        Binding(name: "system:kube-scheduler", role: "system:kube-scheduler", users: ["system:kube-scheduler"]),
        Binding(name: "system:volume-scheduler", role: "system:volume-scheduler", users: ["system:kube-scheduler"]),
        Binding(name: "system:node-proxier", role: "system:node-proxier", users: ["system:kube-proxy"]),
        Binding(name: "system:kubelet-api-admin", role: "system:kubelet-api-admin", users: [kubeletClientUser]),
        Binding(name: "system:node-bootstrapper", role: "system:node-bootstrapper", groups: ["system:bootstrappers"]),
        Binding(name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                role: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", groups: ["system:bootstrappers"]),
        Binding(name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                role: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", groups: ["system:nodes"]),
    ]
}
