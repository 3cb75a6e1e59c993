import Logging
import Synchronization

/// The cluster's roles and bindings, kept in memory from a watch of the four RBAC resources
/// (every server keeps its own, whether or not it runs the control loops), indexed as an
/// ``RBACPolicy`` rebuilt when they change.
public final class RBACPolicyCache: Sendable {
    static let prefix = RegistryKey.root + "rbac.authorization.k8s.io/"
    let objects: WatchedObjects
    private let index = Mutex<(generation: Int, policy: RBACPolicy)>((-1, RBACPolicy()))

    public init(store: any ObjectStore, logger: Logger) {
        objects = WatchedObjects(prefix: Self.prefix, store: store, logger: logger)
    }

    /// The policy as last seen.
    public var policy: RBACPolicy {
        let (current, generation) = objects.snapshot
        return index.withLock { index in
            if index.generation != generation {
                var policy = RBACPolicy()
                for (key, object) in current {
                    guard let (resource, namespace, name) = Self.parse(key) else { continue }
                    policy.apply(resource: resource, namespace: namespace, name: name, object: object)
                }
                index = (generation, policy)
            }
            return index.policy
        }
    }

    public func load() async throws { try await objects.load() }
    public func run() async { await objects.run() }
    public func catchUp(limit: Duration = .seconds(2)) async { await objects.catchUp(limit: limit) }

    /// The resource, namespace ("" when cluster-scoped) and name of an RBAC key.
    static func parse(_ key: String) -> (String, String, String)? {
        let parts = key.dropFirst(prefix.count).split(separator: "/").map(String.init)
        switch parts.count {
        case 2 where parts[0] == "clusterroles" || parts[0] == "clusterrolebindings": return (parts[0], "", parts[1])
        case 3 where parts[0] == "roles" || parts[0] == "rolebindings": return (parts[0], parts[1], parts[2])
        default: return nil
        }
    }
}
