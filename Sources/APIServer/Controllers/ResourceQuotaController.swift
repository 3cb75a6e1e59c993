import Logging
import Synchronization

/// Keeps every ResourceQuota's `status` true (kube-controller-manager's resource quota loop):
/// `hard` follows `spec.hard`, and `used` is measured from the stored objects when a quota is
/// written and after objects of its namespace are deleted or pods change. Admission raises
/// `used` as objects are created; this loop is what brings it down. Each status write is
/// conditional on the quota not having changed since it was read, so a create admitted
/// meanwhile (which changes the quota) makes the loop measure again rather than lose it.
public final class ResourceQuotaController: Sendable {
    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:resourcequota-controller`.
    let client: LoopbackClient
    let logger: Logger
    /// Namespaces that hold at least one quota.
    private let quotaNamespaces = Mutex(Set<String>())

    public init(store: any ObjectStore, client: LoopbackClient, logger: Logger) {
        self.store = store
        self.client = client
        self.logger = logger
    }

    static let quotas = RegistryKey.resourcePrefix(group: "", resource: "resourcequotas")

    public func run() async {
        await ControllerLoop.run("resource quota controller", logger: logger) {
            let revision = try await store.currentRevision()
            var namespaces = Set<String>()
            try await store.forEach(prefix: Self.quotas, revision: revision) { entry in
                if let key = RegistryKey(parsing: entry.key, namespaced: true), let namespace = key.namespace { namespaces.insert(namespace) }
            }
            quotaNamespaces.withLock { $0 = namespaces }
            for namespace in namespaces { try await sync(namespace: namespace) }
            try await store.watchChanges(prefix: RegistryKey.root, after: revision) { events in
                var touched = Set<String>()
                for event in events {
                    guard let key = RegistryKey(parsing: event.key, namespaced: true), let namespace = key.namespace else { continue }
                    let isQuota = key.group.isEmpty && key.resource == "resourcequotas"
                    if isQuota && event.kind == .put { quotaNamespaces.withLock { _ = $0.insert(namespace) } }
                    if isQuota || event.kind == .delete || (key.group.isEmpty && key.resource == "pods") { touched.insert(namespace) }
                }
                let watched = quotaNamespaces.withLock { $0 }
                for namespace in touched.intersection(watched) { try await sync(namespace: namespace) }
            }
        }
    }

    /// Measures and writes the status of every quota in a namespace.
    func sync(namespace: String) async throws {
        var keys: [String] = []
        try await store.forEach(prefix: RegistryKey.namespacePrefix(group: "", resource: "resourcequotas", namespace: namespace)) {
            keys.append($0.key)
        }
        if keys.isEmpty { quotaNamespaces.withLock { _ = $0.remove(namespace) } }
        for key in keys { try await sync(quota: key, namespace: namespace) }
    }

    private func sync(quota key: String, namespace: String) async throws {
        for _ in 0..<5 {
            guard let current = try await store.get(key) else { return }
            let hard = current.object[path: ["spec", "hard"]] ?? .emptyObject
            let used = try await QuotaUsage.measure(Array((hard.objectValue ?? [:]).keys), namespace: namespace,
                                                     scopes: QuotaScopes(quota: current.object), store: store)
            let status: JSON = ["hard": hard, "used": .object(used.mapValues(\.json))]
            if current.object["status"] == status { return }
            var updated = current.object
            updated["status"] = status
            switch try await client.update(key, updated, expectedRevision: current.modRevision, subresource: "status") {
            case .written, .missing: return
            case .conflict: continue
            }
        }
    }
}
