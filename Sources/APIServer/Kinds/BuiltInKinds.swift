/// What the built-in kinds' strategies need from the rest of the server.
public struct KindDependencies: Sendable {
    /// Cluster IPs and node ports of Services.
    public var serviceAddresses: ServiceAddressAllocator?
    /// Issues service account tokens (TokenRequest) and reviews them for any audience.
    public var serviceAccountTokens: ServiceAccountTokenAuthenticator?
    /// Answers TokenReviews for tokens that are not service accounts'.
    public var authenticator: any Authenticator
    /// Answers access and rules reviews.
    public var authorizer: any Authorizer
    /// Dials kubelets, pods and service endpoints for the connect subresources (logs, exec,
    /// attach, port forwarding, proxies); nil: those answer 503.
    public var backends: BackendDialer?

    public init(serviceAddresses: ServiceAddressAllocator?, serviceAccountTokens: ServiceAccountTokenAuthenticator?,
                authenticator: any Authenticator, authorizer: any Authorizer, backends: BackendDialer? = nil) {
        self.backends = backends
        self.serviceAddresses = serviceAddresses
        self.serviceAccountTokens = serviceAccountTokens
        self.authenticator = authenticator
        self.authorizer = authorizer
    }
}

extension KindRegistry {
    /// Every built-in kind with behaviour of its own, in one list. A kind not listed is
    /// served by ``DefaultStrategy`` as a plain object.
    public static func builtIn(_ dependencies: KindDependencies) -> KindRegistry {
        var kinds = KindRegistry()
        // core/v1
        kinds.register("", "Namespace", NamespaceStrategy())
        let relay = dependencies.backends.map { BackendRelay(dialer: $0) }
        kinds.register("", "Pod", PodStrategy(relay: relay))
        kinds.register("", "Service", ServiceStrategy(addresses: dependencies.serviceAddresses, relay: relay))
        kinds.register("", "ServiceAccount", ServiceAccountStrategy(tokens: dependencies.serviceAccountTokens))
        kinds.register("", "Secret", SecretStrategy())
        kinds.register("", "ConfigMap", ConfigMapStrategy())
        kinds.register("", "Event", EventStrategy())
        kinds.register("", "Node", NodeStrategy(relay: relay))
        kinds.register("", "PersistentVolume") { PersistentVolumeStrategy(resource: $0) }
        kinds.register("", "PersistentVolumeClaim") { PersistentVolumeStrategy(resource: $0) }
        kinds.register("", "ReplicationController") { WorkloadStrategy(resource: $0) }
        kinds.register("", "Binding", BindingStrategy())
        for kind in ["PodTemplate", "ResourceQuota"] {
            kinds.register("", kind) { DefaultStrategy($0, .init(returnsDeletedObject: true)) }
        }
        // apps, batch
        for kind in ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"] {
            kinds.register("apps", kind) { WorkloadStrategy(resource: $0) }
        }
        kinds.register("batch", "Job", JobStrategy())
        kinds.register("batch", "CronJob", CronJobStrategy())
        // Reviews, answered and never stored.
        kinds.register("authentication.k8s.io", "SelfSubjectReview", SelfSubjectReviewStrategy())
        kinds.register("authentication.k8s.io", "TokenReview",
                       TokenReviewStrategy(authenticator: dependencies.authenticator,
                                           serviceAccountTokens: dependencies.serviceAccountTokens))
        for kind in ["SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview"] {
            kinds.register("authorization.k8s.io", kind) { AccessReviewStrategy(resource: $0, authorizer: dependencies.authorizer) }
        }
        kinds.register("authorization.k8s.io", "SelfSubjectRulesReview",
                       SelfSubjectRulesReviewStrategy(authorizer: dependencies.authorizer))
        // Other groups.
        kinds.register("events.k8s.io", "Event", EventsV1Strategy())
        kinds.register("networking.k8s.io", "IPAddress", IPAddressStrategy())
        kinds.register("apiregistration.k8s.io", "APIService", APIServiceStrategy())
        kinds.register("apiextensions.k8s.io", "CustomResourceDefinition", CustomResourceDefinitionStrategy())
        kinds.register("certificates.k8s.io", "CertificateSigningRequest") { CertificateSigningRequestStrategy(resource: $0) }
        kinds.register("coordination.k8s.io", "Lease") {
            DefaultStrategy($0, .init(columns: [.name, .field("Holder", ["spec", "holderIdentity"], none: ""), .age]))
        }
        kinds.register("scheduling.k8s.io", "PriorityClass", PriorityClassStrategy())
        kinds.register("policy", "PodDisruptionBudget") {
            DefaultStrategy($0, .init(columns: [.name, .field("Min Available", ["spec", "minAvailable"], none: "N/A"),
                                                .field("Max Unavailable", ["spec", "maxUnavailable"], none: "N/A"),
                                                .count("Allowed Disruptions", ["status", "disruptionsAllowed"]), .age]))
        }
        for kind in ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"] {
            kinds.register("rbac.authorization.k8s.io", kind, RBACStrategy())
        }
        // Plain kinds whose delete answers the object, as their kube-apiserver registries do.
        for (group, kind) in [("storage.k8s.io", "StorageClass"), ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"),
                              ("storage.k8s.io", "VolumeAttributesClass"), ("resource.k8s.io", "DeviceClass"),
                              ("resource.k8s.io", "ResourceClaimTemplate"), ("resource.k8s.io", "ResourceSlice")] {
            kinds.register(group, kind) { DefaultStrategy($0, .init(returnsDeletedObject: true)) }
        }
        // Plain kinds whose status writes change nothing else (kube-apiserver resets their metadata).
        for (group, kind, returnsObject) in [("networking.k8s.io", "ServiceCIDR", false), ("resource.k8s.io", "ResourceClaim", true),
                                             ("storage.k8s.io", "VolumeAttachment", true),
                                             ("internal.apiserver.k8s.io", "StorageVersion", false),
                                             ("flowcontrol.apiserver.k8s.io", "FlowSchema", false),
                                             ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", false),
                                             ("certificates.k8s.io", "PodCertificateRequest", false)] {
            kinds.register(group, kind) { DefaultStrategy($0, .init(statusResetsMetadata: true, returnsDeletedObject: returnsObject)) }
        }
        return kinds
    }
}
