import Logging

/// Fills the rules of every ClusterRole with an `aggregationRule` with the rules of the
/// ClusterRoles its selectors match (kube-controller-manager's clusterrole-aggregation loop):
/// `admin`, `edit` and `view` grow as roles labelled to aggregate into them appear.
public struct ClusterRoleAggregator: Sendable {
    static let prefix = RegistryKey.resourcePrefix(group: "rbac.authorization.k8s.io", resource: "clusterroles")
    /// Reads.
    let store: any ObjectStore
    /// Writes, as `system:skiff:clusterrole-aggregator`.
    let client: LoopbackClient
    let logger: Logger

    public init(store: any ObjectStore, client: LoopbackClient, logger: Logger) {
        self.store = store
        self.client = client
        self.logger = logger
    }

    /// Runs until cancelled: one pass at start, another after every change of a ClusterRole.
    public func run() async {
        await ControllerLoop.run("cluster role aggregator", logger: logger) {
            let revision = try await store.currentRevision()
            try await aggregate()
            try await store.watchChanges(prefix: Self.prefix, after: revision) { _ in try await aggregate() }
        }
    }

    /// One pass over every aggregated ClusterRole.
    func aggregate() async throws {
        var roles: [(key: String, revision: Int64, object: JSON)] = []
        try await store.forEach(prefix: Self.prefix) { entry in
            roles.append((entry.key, entry.modRevision, try StoredCodec.decode(entry.value, key: entry.key, revision: entry.modRevision)))
        }
        roles.sort { $0.key < $1.key }
        for role in roles {
            guard let selectors = role.object[path: ["aggregationRule", "clusterRoleSelectors"]]?.arrayValue else { continue }
            let matchers = selectors.compactMap { try? LabelSelector(object: $0) }
            var rules: [JSON] = []
            for other in roles where other.key != role.key {
                let labels = (other.object[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                guard matchers.contains(where: { $0.matches(labels) }) else { continue }
                for rule in other.object["rules"]?.arrayValue ?? [] where !rules.contains(rule) { rules.append(rule) }
            }
            guard role.object["rules"]?.arrayValue ?? [] != rules else { continue }
            var updated = role.object
            updated["rules"] = .array(rules)
            // A conflict: another change came first, and its event starts another pass.
            _ = try await client.update(role.key, updated, expectedRevision: role.revision)
        }
    }
}
