import Logging
import Synchronization

/// What the pods bound to each node use, kept in memory from a watch of the pods (as
/// kube-apiserver's node authorizer keeps its graph): for each pod, its node and the secrets,
/// config maps, claims and service account it names. The node authorizer asks it instead of
/// reading every pod of a namespace at each decision (a kubelet starting 10 pods asks about
/// each pod's token and config maps). ``catchUp(limit:)`` waits until every change the store
/// had committed is in, so that a refusal is decided on what was written before it.
public final class NodeGraphIndex: Sendable {
    /// A node's use of an object.
    struct Use: Hashable, Sendable {
        var node: String
        var kind: NodeAuthorizer.Related
        var namespace: String
        var name: String
    }

    private let uses = Uses()
    private let follower: WatchedPrefix

    public init(store: any ObjectStore, logger: Logger) {
        follower = WatchedPrefix(prefix: RegistryKey.resourcePrefix(group: "", resource: "pods"), store: store, logger: logger,
                                 state: uses)
    }

    /// Reads every pod; after this the index answers. Call before serving.
    public func load() async throws { try await follower.load() }

    /// Follows the pods until cancelled.
    public func run() async { await follower.run() }

    /// Waits (up to `limit`) until every change the store had committed when called is in.
    public func catchUp(limit: Duration = .seconds(2)) async { await follower.catchUp(limit: limit) }

    /// Whether a pod bound to `node` uses the object (for a pod: whether it is bound there).
    func uses(node: String, _ kind: NodeAuthorizer.Related, namespace: String, name: String) -> Bool {
        uses.holds(node: node, kind, namespace: namespace, name: name)
    }

    /// The claims of the pods bound to `node`, as (namespace, name).
    func claims(of node: String) -> [(namespace: String, name: String)] { uses.claims(of: node) }

    /// Each pod's node and uses, and how many pods hold each use.
    private final class Uses: WatchedPrefixState {
        private struct State {
            var pods: [String: (node: String, uses: Set<Use>)] = [:]
            var counts: [Use: Int] = [:]
        }

        private let state = Mutex(State())

        func reset(_ objects: [String: JSON]) {
            state.withLock {
                $0 = State()
                for (key, pod) in objects { Self.put(key, pod, into: &$0) }
            }
        }

        func apply(_ changes: [(key: String, object: JSON?)]) {
            state.withLock {
                for (key, pod) in changes {
                    if let pod { Self.put(key, pod, into: &$0) } else { Self.remove(key, from: &$0) }
                }
            }
        }

        func holds(node: String, _ kind: NodeAuthorizer.Related, namespace: String, name: String) -> Bool {
            state.withLock { state in
                if kind == .pod {
                    let key = RegistryKey(group: "", resource: "pods", namespace: namespace, name: name).path
                    return state.pods[key]?.node == node
                }
                return state.counts[Use(node: node, kind: kind, namespace: namespace, name: name), default: 0] > 0
            }
        }

        func claims(of node: String) -> [(namespace: String, name: String)] {
            state.withLock { state in
                state.counts.keys.filter { $0.node == node && $0.kind == .claim }.map { ($0.namespace, $0.name) }
            }
        }

        private static func put(_ key: String, _ pod: JSON, into state: inout State) {
            remove(key, from: &state)
            guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else { return }
            let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? ""
            var uses = Set<Use>()
            for kind in [NodeAuthorizer.Related.secret, .configMap, .claim, .serviceAccount] {
                for name in NodeGraph.references(pod, kind) { uses.insert(Use(node: node, kind: kind, namespace: namespace, name: name)) }
            }
            state.pods[key] = (node, uses)
            for use in uses { state.counts[use, default: 0] += 1 }
        }

        private static func remove(_ key: String, from state: inout State) {
            guard let previous = state.pods.removeValue(forKey: key) else { return }
            for use in previous.uses {
                let left = state.counts[use, default: 1] - 1
                state.counts[use] = left > 0 ? left : nil
            }
        }
    }
}
