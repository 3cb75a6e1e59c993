import KineLayer
import Logging
import Synchronization

/// The cluster's roles and bindings, kept in memory from a watch of the four RBAC resources
/// (every server keeps its own, whether or not it runs the control loops).
public final class RBACPolicyCache: Sendable {
    static let prefix = RegistryKey.root + "rbac.authorization.k8s.io/"

    private struct State {
        var policy = RBACPolicy()
        /// Every change up to this revision is in `policy`.
        var revision: Int64 = 0
        var loaded = false
        var watchID: Int?
    }

    private let state = Mutex(State())
    let store: ObjectStore
    let logger: Logger

    public init(store: ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The policy as last seen.
    public var policy: RBACPolicy { state.withLock { $0.policy } }

    /// Reads every role and binding; after this the cache answers. Call before serving.
    public func load() async throws {
        let revision = try await store.currentRevision()
        var policy = RBACPolicy()
        try await store.forEach(prefix: Self.prefix, revision: revision) { entry in
            guard let (resource, namespace, name) = Self.parse(entry.key) else { return }
            policy.apply(resource: resource, namespace: namespace, name: name,
                         object: try ObjectStore.decode(entry.value, key: entry.key, revision: entry.modRevision))
        }
        state.withLock {
            $0.policy = policy
            $0.revision = revision
            $0.loaded = true
        }
    }

    /// Follows changes until cancelled, reading everything again when the watch fails.
    public func run() async {
        await ControllerLoop.run("RBAC policy cache", logger: logger) {
            if !state.withLock({ $0.loaded }) { try await load() }
            let start = state.withLock { $0.revision }
            let watch: KineWatch
            do {
                watch = try await store.watch(prefix: Self.prefix, after: start)
            } catch KineError.compacted {
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
                case .events(let events): try apply(events)
                case .progress(let revision): state.withLock { $0.revision = max($0.revision, revision) }
                }
            }
            state.withLock { $0.loaded = false }
        }
    }

    private func apply(_ events: [Event]) throws {
        var changes: [(String, String, String, JSON?)] = []
        for event in events {
            let key = event.kv.keyString
            guard let (resource, namespace, name) = Self.parse(key) else { continue }
            let object = event.kind == .put ? try ObjectStore.decode(event.kv.value, key: key, revision: event.kv.modRevision) : nil
            changes.append((resource, namespace, name, object))
        }
        let last = events.last?.kv.modRevision ?? 0
        state.withLock {
            for (resource, namespace, name, object) in changes {
                $0.policy.apply(resource: resource, namespace: namespace, name: name, object: object)
            }
            $0.revision = max($0.revision, last)
        }
    }

    /// Waits (up to `limit`) until every change the store had committed when called is in the
    /// cache, so that a decision can see a binding created just before the request.
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
