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

    private struct State {
        /// Each pod's node and uses, by pod key.
        var pods: [String: (node: String, uses: Set<Use>)] = [:]
        /// How many pods hold each use.
        var counts: [Use: Int] = [:]
        var revision: Int64 = 0
        var loaded = false
        var watchID: Int?
    }

    static let prefix = RegistryKey.resourcePrefix(group: "", resource: "pods")

    let store: any ObjectStore
    let logger: Logger
    private let state = Mutex(State())

    public init(store: any ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Reads every pod; after this the index answers. Call before serving.
    public func load() async throws {
        let revision = try await store.currentRevision()
        var pods: [(String, JSON)] = []
        try await store.forEach(prefix: Self.prefix, revision: revision) { entry in
            pods.append((entry.key, try StoredCodec.decode(entry.value, key: entry.key, revision: entry.modRevision)))
        }
        state.withLock {
            $0.pods = [:]
            $0.counts = [:]
            for (key, pod) in pods { Self.put(key, pod, into: &$0) }
            $0.revision = revision
            $0.loaded = true
        }
    }

    /// Follows the pods until cancelled, reading everything again when the watch fails.
    public func run() async {
        await ControllerLoop.run("node authorizer's pod index", logger: logger) {
            if !state.withLock({ $0.loaded }) { try await load() }
            let start = state.withLock { $0.revision }
            let watch: StoreWatch
            do {
                watch = try await store.watch(prefix: Self.prefix, after: start)
            } catch ObjectStoreError.compacted {
                try await load()
                return
            }
            state.withLock { $0.watchID = watch.id }
            defer {
                store.cancelWatch(watch.id)
                state.withLock { $0.watchID = nil }
            }
            for try await message in watch.stream {
                switch message {
                case .events(let events):
                    let changes = try events.map { event -> (String, JSON?) in
                        (event.key, event.kind == .put ? try StoredCodec.decode(event.value, key: event.key, revision: event.revision) : nil)
                    }
                    let last = events.last?.revision ?? 0
                    state.withLock {
                        for (key, pod) in changes {
                            if let pod { Self.put(key, pod, into: &$0) } else { Self.remove(key, from: &$0) }
                        }
                        $0.revision = max($0.revision, last)
                    }
                case .progress(let revision):
                    state.withLock { $0.revision = max($0.revision, revision) }
                }
            }
            state.withLock { $0.loaded = false }
        }
    }

    /// Waits (up to `limit`) until every change the store had committed when called is in.
    public func catchUp(limit: Duration = .seconds(2)) async {
        guard let target = try? await store.currentRevision() else { return }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let (revision, watchID) = state.withLock { ($0.revision, $0.watchID) }
            if revision >= target { return }
            if let watchID { store.requestProgress(watchID) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Whether a pod bound to `node` uses the object (for a pod: whether it is bound there).
    func uses(node: String, _ kind: NodeAuthorizer.Related, namespace: String, name: String) -> Bool {
        state.withLock { state in
            if kind == .pod {
                let key = RegistryKey(group: "", resource: "pods", namespace: namespace, name: name).path
                return state.pods[key]?.node == node
            }
            return state.counts[Use(node: node, kind: kind, namespace: namespace, name: name), default: 0] > 0
        }
    }

    /// The claims of the pods bound to `node`, as (namespace, name).
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
