import Logging
import Synchronization

/// What a ``WatchedPrefix`` hands the objects under its prefix to (a strategy: keep them
/// whole, as ``WatchedObjects`` does, or keep an index of them).
public protocol WatchedPrefixState: Sendable {
    /// Everything under the prefix, after a full read: replaces what is held.
    func reset(_ objects: [String: JSON])
    /// Changes in revision order: the object put, or nil for a delete.
    func apply(_ changes: [(key: String, object: JSON?)])
}

/// Follows the objects under one key prefix from a watch and hands every change to its
/// state: one full read, then the watch, read again whole when the watch fails or its start
/// was compacted. ``catchUp(limit:)`` waits until every change the store had committed is in
/// the state, so that a decision sees an object written just before it.
public final class WatchedPrefix: Sendable {
    private struct Progress {
        /// Every change up to this revision is in the state.
        var revision: Int64 = 0
        var loaded = false
        var watchID: Int?
    }

    public let prefix: String
    let store: any ObjectStore
    let logger: Logger
    let state: any WatchedPrefixState
    private let progress = Mutex(Progress())

    public init(prefix: String, store: any ObjectStore, logger: Logger, state: any WatchedPrefixState) {
        self.prefix = prefix
        self.store = store
        self.logger = logger
        self.state = state
    }

    /// Reads every object into the state; after this it answers. Call before serving.
    public func load() async throws {
        let revision = try await store.currentRevision()
        var objects: [String: JSON] = [:]
        try await store.forEach(prefix: prefix, revision: revision) { entry in
            objects[entry.key] = try StoredCodec.decode(entry.value, key: entry.key, revision: entry.modRevision)
        }
        state.reset(objects)
        progress.withLock {
            $0.revision = revision
            $0.loaded = true
        }
    }

    /// Follows changes until cancelled, reading everything again when the watch fails.
    public func run() async {
        await ControllerLoop.run("watch of \(prefix)", logger: logger) {
            if !progress.withLock({ $0.loaded }) { try await load() }
            let start = progress.withLock { $0.revision }
            let watch: StoreWatch
            do {
                watch = try await store.watch(prefix: prefix, after: start)
            } catch ObjectStoreError.compacted {
                try await load()
                return
            }
            progress.withLock { $0.watchID = watch.id }
            defer {
                store.cancelWatch(watch.id)
                progress.withLock { $0.watchID = nil }
            }
            for try await message in watch.stream {
                switch message {
                case .events(let events):
                    let changes = try events.map { event -> (key: String, object: JSON?) in
                        (event.key, event.kind == .put ? try StoredCodec.decode(event.value, key: event.key, revision: event.revision) : nil)
                    }
                    state.apply(changes)
                    let last = events.last?.revision ?? 0
                    progress.withLock { $0.revision = max($0.revision, last) }
                case .progress(let revision):
                    progress.withLock { $0.revision = max($0.revision, revision) }
                }
            }
            progress.withLock { $0.loaded = false }
        }
    }

    /// Waits (up to `limit`) until every change the store had committed when called is in.
    public func catchUp(limit: Duration = .seconds(2)) async {
        _ = try? await caughtUp(limit: limit)
    }

    /// Waits (up to `limit`) until every change the store had committed when called is in;
    /// `false` if that did not happen in time. Throws when the store cannot say what it has
    /// committed.
    public func caughtUp(limit: Duration = .seconds(2)) async throws -> Bool {
        let target = try await store.currentRevision()
        let deadline = ContinuousClock.now + limit
        while true {
            let (revision, watchID) = progress.withLock { ($0.revision, $0.watchID) }
            if revision >= target { return true }
            guard ContinuousClock.now < deadline else { return false }
            if let watchID { store.requestProgress(watchID) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
