import Logging
import Synchronization

/// The objects under one key prefix, kept in memory from a watch (the policy caches every
/// server keeps: RBAC, admission policies). ``catchUp(limit:)`` waits until every change the
/// store had committed is in, so that a decision sees an object written just before.
public final class WatchedObjects: Sendable {
    private struct State {
        var objects: [String: JSON] = [:]
        /// Every change up to this revision is in `objects`.
        var revision: Int64 = 0
        /// Counts changes, so that derived indexes know when to rebuild.
        var generation = 0
        var loaded = false
        var watchID: Int?
    }

    public let prefix: String
    let store: any ObjectStore
    let logger: Logger
    /// Called with the objects after every change is taken in (and after a full read).
    let onChange: (@Sendable ([String: JSON]) -> Void)?
    private let state = Mutex(State())

    public init(prefix: String, store: any ObjectStore, logger: Logger, onChange: (@Sendable ([String: JSON]) -> Void)? = nil) {
        self.prefix = prefix
        self.store = store
        self.logger = logger
        self.onChange = onChange
    }

    /// The objects by key, and the generation they are at.
    public var snapshot: (objects: [String: JSON], generation: Int) { state.withLock { ($0.objects, $0.generation) } }

    /// The keys of the objects under `prefix` (within this cache's own prefix), in key order.
    public func keys(withPrefix prefix: String) -> [String] {
        state.withLock { $0.objects.keys.filter { $0.hasPrefix(prefix) } }.sorted()
    }

    /// Reads every object; after this the cache answers. Call before serving.
    public func load() async throws {
        let revision = try await store.currentRevision()
        var objects: [String: JSON] = [:]
        try await store.forEach(prefix: prefix, revision: revision) { entry in
            objects[entry.key] = try StoredCodec.decode(entry.value, key: entry.key, revision: entry.modRevision)
        }
        state.withLock {
            $0.objects = objects
            $0.revision = revision
            $0.generation += 1
            $0.loaded = true
        }
        if let onChange { onChange(snapshot.objects) }
    }

    /// Follows changes until cancelled, reading everything again when the watch fails.
    public func run() async {
        await ControllerLoop.run("cache of \(prefix)", logger: logger) {
            if !state.withLock({ $0.loaded }) { try await load() }
            let start = state.withLock { $0.revision }
            let watch: StoreWatch
            do {
                watch = try await store.watch(prefix: prefix, after: start)
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
                case .events(let events): try apply(events)
                case .progress(let revision): state.withLock { $0.revision = max($0.revision, revision) }
                }
            }
            state.withLock { $0.loaded = false }
        }
    }

    private func apply(_ events: [StoreEvent]) throws {
        let changes = try events.map { event -> (String, JSON?) in
            (event.key, event.kind == .put ? try StoredCodec.decode(event.value, key: event.key, revision: event.revision) : nil)
        }
        let last = events.last?.revision ?? 0
        state.withLock {
            for (key, object) in changes { $0.objects[key] = object }
            $0.revision = max($0.revision, last)
            $0.generation += 1
        }
        if let onChange { onChange(snapshot.objects) }
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
}
