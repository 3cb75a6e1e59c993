import Logging
import Synchronization

/// What ``ServiceEndpoints`` found for a Service port, kept until a Service, EndpointSlice or
/// Endpoints object of its namespace changes (a watch on the three tells): webhook calls and
/// aggregated requests then cost no store read. An entry is kept only when no change of its
/// namespace arrived while it was being read, and only while the watch runs.
final class EndpointCache: Sendable {
    static let entryLimit = 1024

    private let store: any ObjectStore
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        /// Whether the watch runs (entries are kept only then).
        var live = false
        /// Changes seen per namespace.
        var generations: [String: Int] = [:]
        var entries: [String: [(address: String, port: Int)]] = [:]
    }

    /// The prefixes whose changes invalidate a namespace's entries.
    static let prefixes = [
        RegistryKey.resourcePrefix(group: "", resource: "services"),
        RegistryKey.resourcePrefix(group: "discovery.k8s.io", resource: "endpointslices"),
        RegistryKey.resourcePrefix(group: "", resource: "endpoints"),
    ]

    init(store: any ObjectStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    static func key(namespace: String, service: String, port: Int) -> String { "\(namespace)/\(service)/\(port)" }

    /// The candidates kept for `key`, and the namespace's generation to store a fresh read under.
    func lookup(_ key: String, namespace: String) -> (candidates: [(address: String, port: Int)]?, generation: Int?) {
        state.withLock { state in
            guard state.live else { return (nil, nil) }
            return (state.entries[key], state.generations[namespace, default: 0])
        }
    }

    /// Keeps `candidates` for `key` unless the namespace changed since `generation` was read.
    func keep(_ key: String, namespace: String, candidates: [(address: String, port: Int)], generation: Int) {
        state.withLock { state in
            guard state.live, state.generations[namespace, default: 0] == generation else { return }
            if state.entries.count >= Self.entryLimit { state.entries.removeAll() }
            state.entries[key] = candidates
        }
    }

    /// Follows the three prefixes until cancelled; entries are dropped whenever the watch
    /// (re)starts or ends.
    func run() async {
        await ControllerLoop.run("endpoint cache", logger: logger) {
            defer { state.withLock { $0.live = false; $0.entries.removeAll() } }
            let revision = try await store.currentRevision()
            state.withLock { $0.entries.removeAll(); $0.live = true }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for prefix in Self.prefixes {
                    group.addTask {
                        try await self.store.watchChanges(prefix: prefix, after: revision) { events in
                            let namespaces = Set(events.compactMap { event -> String? in
                                guard event.key.hasPrefix(prefix) else { return nil }
                                return event.key.dropFirst(prefix.count).split(separator: "/").first.map(String.init)
                            })
                            self.invalidate(namespaces)
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func invalidate(_ namespaces: Set<String>) {
        guard !namespaces.isEmpty else { return }
        state.withLock { state in
            for namespace in namespaces {
                state.generations[namespace, default: 0] += 1
                let prefix = namespace + "/"
                for key in state.entries.keys where key.hasPrefix(prefix) { state.entries[key] = nil }
            }
        }
    }
}
