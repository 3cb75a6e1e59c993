import Logging

/// Keeps, in every active namespace, the `default` ServiceAccount and the `kube-root-ca.crt`
/// ConfigMap holding the cluster CA (what kube-controller-manager's service account and root
/// CA publisher loops do). It works from watches: one pass over the namespaces at start,
/// then every namespace created, and every such object deleted or changed, is seen to.
public struct ServiceAccountController: Sendable {
    static let serviceAccountName = "default"
    static let rootCAConfigMap = "kube-root-ca.crt"

    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:serviceaccount-controller`.
    let client: LoopbackClient
    let caCertificate: String
    let logger: Logger

    public init(store: any ObjectStore, client: LoopbackClient, caCertificate: String, logger: Logger) {
        self.store = store
        self.client = client
        self.caCertificate = caCertificate
        self.logger = logger
    }

    static let namespaces = RegistryKey.resourcePrefix(group: "", resource: "namespaces")
    static let serviceAccounts = RegistryKey.resourcePrefix(group: "", resource: "serviceaccounts")
    static let configMaps = RegistryKey.resourcePrefix(group: "", resource: "configmaps")

    /// Runs until cancelled; a failed watch is started again after a pause.
    public func run() async {
        await ControllerLoop.run("service account controller", logger: logger) {
            let revision = try await store.currentRevision()
            try await store.forEach(prefix: Self.namespaces, revision: revision) { entry in
                try await ensure(namespace: String(entry.key.dropFirst(Self.namespaces.count)))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for prefix in [Self.namespaces, Self.serviceAccounts, Self.configMaps] {
                    group.addTask {
                        try await store.watchChanges(prefix: prefix, after: revision) { events in
                            for event in events { try await handle(event, prefix: prefix) }
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func handle(_ event: StoreEvent, prefix: String) async throws {
        let parts = event.key.dropFirst(prefix.count).split(separator: "/").map(String.init)
        switch prefix {
        case Self.namespaces:
            if event.kind == .put, let name = parts.first { try await ensure(namespace: name) }
        case Self.serviceAccounts:
            if event.kind == .delete, parts.count == 2, parts[1] == Self.serviceAccountName { try await ensure(namespace: parts[0]) }
        default:
            if parts.count == 2, parts[1] == Self.rootCAConfigMap { try await ensure(namespace: parts[0]) }
        }
    }

    /// Creates what is missing in an active namespace and puts the CA back into the ConfigMap.
    func ensure(namespace: String) async throws {
        guard let ns = try await store.get(RegistryKey(group: "", resource: "namespaces", namespace: nil, name: namespace).path),
              ns.object[path: ["metadata", "deletionTimestamp"]] == nil,
              ns.object[path: ["status", "phase"]]?.stringValue != "Terminating" else { return }
        let accountKey = RegistryKey(group: "", resource: "serviceaccounts", namespace: namespace, name: Self.serviceAccountName).path
        if try await store.get(accountKey) == nil {
            // nil: it exists after all (created meanwhile).
            try await client.create(accountKey, .newObject(apiVersion: "v1", kind: "ServiceAccount", name: Self.serviceAccountName,
                                                           namespace: namespace))
        }
        let mapKey = RegistryKey(group: "", resource: "configmaps", namespace: namespace, name: Self.rootCAConfigMap).path
        let data: JSON = ["ca.crt": .string(caCertificate)]
        if try await store.get(mapKey) != nil {
            try await client.guaranteedUpdate(mapKey, in: store) { current in
                guard current.object["data"] != data else { return nil }
                var fixed = current.object
                fixed["data"] = data
                return fixed
            }
        } else {
            var map = JSON.newObject(apiVersion: "v1", kind: "ConfigMap", name: Self.rootCAConfigMap, namespace: namespace)
            map["data"] = data
            map[path: ["metadata", "annotations"]] = ["kubernetes.io/description": "The cluster CA, to verify the API server's serving certificate."]
            try await client.create(mapKey, map)
        }
    }
}
