import Logging
import Synchronization

/// The cluster's roles and bindings, kept in memory from a watch of the four RBAC resources
/// (every server keeps its own, whether or not it runs the control loops), indexed as an
/// ``RBACPolicy`` rebuilt when they change. The requests the policy allowed are remembered
/// until it changes: clients repeat the same few requests, and finding the bindings that
/// apply to a user reads every cluster-wide binding.
public final class RBACPolicyCache: Sendable {
    static let prefix = RegistryKey.root + "rbac.authorization.k8s.io/"
    /// The most allowed requests remembered for one policy; past it they are forgotten.
    static let decisionCapacity = 10_000

    private struct Index {
        var generation = -1
        var policy = RBACPolicy()
        /// Allowed requests and the reason, for this generation of the policy.
        var allowed: [AuthorizationAttributes: String] = [:]
    }

    let objects: WatchedObjects
    private let index = Mutex(Index())

    public init(store: any ObjectStore, logger: Logger) {
        objects = WatchedObjects(prefix: Self.prefix, store: store, logger: logger)
    }

    /// The policy as last seen.
    public var policy: RBACPolicy { current().policy }

    /// How many allowed requests are remembered.
    var rememberedDecisions: Int { index.withLock { $0.allowed.count } }

    /// The policy as last seen, with its generation (rebuilt if the objects changed).
    private func current() -> (policy: RBACPolicy, generation: Int) {
        let (objects, generation) = self.objects.snapshot
        return index.withLock { index in
            if index.generation != generation {
                var policy = RBACPolicy()
                for (key, object) in objects {
                    guard let (resource, namespace, name) = Self.parse(key) else { continue }
                    policy.apply(resource: resource, namespace: namespace, name: name, object: object)
                }
                index = Index(generation: generation, policy: policy)
            }
            return (index.policy, index.generation)
        }
    }

    /// Why the policy as last seen allows a request (``RBACPolicy/allowingReason(_:)``),
    /// remembered while the policy stays the same; `nil` when it does not allow it (not
    /// remembered: a refusal is decided after catching up).
    func allowingReason(_ attributes: AuthorizationAttributes) -> String? {
        let (policy, generation) = current()
        if let known = index.withLock({ $0.generation == generation ? $0.allowed[attributes] : nil }) { return known }
        guard let reason = policy.allowingReason(attributes) else { return nil }
        index.withLock { index in
            guard index.generation == generation else { return }
            if index.allowed.count >= Self.decisionCapacity { index.allowed.removeAll(keepingCapacity: true) }
            index.allowed[attributes] = reason
        }
        return reason
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
