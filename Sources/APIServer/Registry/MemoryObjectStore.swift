import Synchronization

/// An ``ObjectStore`` in memory, with the kine store's semantics: one revision per change
/// (a create with other writes is one change), every version kept since the last
/// ``compact(to:)`` so reads at a past revision and watches from one work, conditional writes
/// on the mod revision. For in-process tests of the engine and the control loops.
public final class MemoryObjectStore: ObjectStore {
    private struct Version {
        var modRevision: Int64
        var createRevision: Int64
        /// `nil`: deleted at `modRevision`.
        var value: [UInt8]?
    }

    private struct Watcher {
        let prefix: String
        let sink: any StoreWatchSink
    }

    /// A sink feeding a watch's stream.
    private struct StreamSink: StoreWatchSink {
        let continuation: AsyncThrowingStream<StoreWatchMessage, any Error>.Continuation
        func receive(_ message: StoreWatchMessage) -> Bool {
            if case .enqueued = continuation.yield(message) { return true }
            return false
        }
        func finish(_ error: (any Error)?) { continuation.finish(throwing: error) }
    }

    private struct State {
        var revision: Int64 = 1
        var compacted: Int64 = 0
        /// Every key's versions, oldest first.
        var versions: [String: [Version]] = [:]
        /// The changes since `compacted`, in revision order.
        var log: [StoreEvent] = []
        var watchers: [Int: Watcher] = [:]
        var nextWatchID = 1

        func live(_ key: String, at revision: Int64) -> Version? {
            guard let version = versions[key]?.last(where: { $0.modRevision <= revision }), version.value != nil else { return nil }
            return version
        }

        func entry(_ key: String, _ version: Version) -> StoredEntry {
            StoredEntry(key: key, modRevision: version.modRevision, value: version.value ?? [])
        }

        /// The revision a read at `requested` (0: now) sees, or the error etcd gives for it.
        func readRevision(_ requested: Int64) throws -> Int64 {
            if requested == 0 { return revision }
            if requested > revision { throw ObjectStoreError.futureRevision(requested: requested, current: revision) }
            if requested < compacted { throw ObjectStoreError.compacted(compactRevision: compacted, requested: requested) }
            return requested
        }

        /// Makes the changes at one new revision and tells the watchers.
        mutating func commit(_ changes: [(key: String, value: [UInt8]?)]) -> Int64 {
            revision += 1
            var events: [StoreEvent] = []
            for (key, value) in changes {
                let previous = live(key, at: revision - 1)
                let created = previous == nil
                versions[key, default: []].append(Version(modRevision: revision,
                                                          createRevision: created ? revision : previous?.createRevision ?? revision,
                                                          value: value))
                events.append(StoreEvent(kind: value == nil ? .delete : .put, key: key, value: value ?? [], revision: revision,
                                         isCreate: value != nil && created, previous: previous.map { entry(key, $0) }))
            }
            log.append(contentsOf: events)
            for watcher in watchers.values {
                let seen = events.filter { $0.key.hasPrefix(watcher.prefix) }
                if !seen.isEmpty { _ = watcher.sink.receive(.events(seen)) }
            }
            return revision
        }
    }

    private let state = Mutex(State())

    public init() {}

    public func get(_ key: String, revision: Int64) async throws -> StoredObject? {
        let entry = try state.withLock { state -> StoredEntry? in
            let at = try state.readRevision(revision)
            return state.live(key, at: at).map { state.entry(key, $0) }
        }
        return try entry.map { try StoredCodec.decode($0) }
    }

    public func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        let value = try StoredCodec.encodeChecked(object)
        let others = writes.map { (key: $0.key, expected: $0.expectedRevision, value: StoredCodec.encode($0.object)) }
        return state.withLock { state -> CreateOutcome in
            guard state.live(key, at: state.revision) == nil else { return .exists }
            for other in others where (state.live(other.key, at: state.revision)?.modRevision ?? 0) != other.expected { return .conflict }
            let revision = state.commit([(key, value)] + others.map { ($0.key, $0.value) })
            return .created(StoredObject(object: StoredCodec.withRevision(object, revision), modRevision: revision, key: key))
        }
    }

    public func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        let value = try StoredCodec.encodeChecked(object)
        return state.withLock { state -> WriteOutcome in
            guard let current = state.live(key, at: state.revision) else { return .missing }
            guard current.modRevision == expectedRevision else { return .conflict }
            let revision = state.commit([(key, value)])
            return .written(StoredObject(object: StoredCodec.withRevision(object, revision), modRevision: revision, key: key))
        }
    }

    public func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome {
        let result = state.withLock { state -> Result<(Int64, StoredEntry), DeleteRefusal> in
            guard let current = state.live(key, at: state.revision) else { return .failure(.missing) }
            guard current.modRevision == expectedRevision else { return .failure(.conflict) }
            let deleted = state.entry(key, current)
            return .success((state.commit([(key, nil)]), deleted))
        }
        switch result {
        case .failure(.missing): return .missing
        case .failure(.conflict): return .conflict
        case .success(let (revision, deleted)): return .written(try StoredCodec.decode(deleted, revision: revision))
        }
    }

    private enum DeleteRefusal: Error { case missing, conflict }

    public func list(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) async throws -> ListPage {
        try state.withLock { state in
            let at = try state.readRevision(revision)
            let start = startKey.map { Array($0.utf8) }
            let keys = state.versions.keys.filter { key in
                key.hasPrefix(prefix) && (start.map { !Array(key.utf8).lexicographicallyPrecedes($0) } ?? true)
            }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            var entries: [StoredEntry] = []
            var matching: Int64 = 0
            for key in keys {
                guard let version = state.live(key, at: at) else { continue }
                matching += 1
                if limit <= 0 || entries.count < limit { entries.append(state.entry(key, version)) }
            }
            let more = Int64(entries.count) < matching
            return ListPage(revision: at, entries: entries, more: more, remaining: counting && limit > 0 ? matching - Int64(entries.count) : nil)
        }
    }

    public func watch(prefix: String, after revision: Int64) async throws -> StoreWatch {
        let (stream, continuation) = AsyncThrowingStream<StoreWatchMessage, any Error>.makeStream()
        let id = try await watch(prefix: prefix, after: revision, sink: StreamSink(continuation: continuation))
        continuation.onTermination = { [weak self] _ in self?.forget(id) }
        return StoreWatch(id: id, stream: stream)
    }

    /// Changes are handed to the sink by the writer, under the store's lock.
    public func watch(prefix: String, after revision: Int64, sink: some StoreWatchSink) async throws -> Int {
        try state.withLock { state -> Int in
            if revision + 1 < state.compacted {
                throw ObjectStoreError.compacted(compactRevision: state.compacted, requested: revision + 1)
            }
            let id = state.nextWatchID
            state.nextWatchID += 1
            let past = state.log.filter { $0.revision > revision && $0.key.hasPrefix(prefix) }
            if !past.isEmpty { _ = sink.receive(.events(past)) }
            state.watchers[id] = Watcher(prefix: prefix, sink: sink)
            return id
        }
    }

    @discardableResult
    public func requestProgress(_ watchID: Int) -> Bool {
        state.withLock { state in
            guard let watcher = state.watchers[watchID] else { return false }
            _ = watcher.sink.receive(.progress(revision: state.revision))
            return true
        }
    }

    public func cancelWatch(_ watchID: Int) {
        forget(watchID)?.sink.finish(nil)
    }

    @discardableResult
    private func forget(_ watchID: Int) -> Watcher? {
        state.withLock { $0.watchers.removeValue(forKey: watchID) }
    }

    public func currentRevision() async throws -> Int64 { state.withLock { $0.revision } }
    public func compactRevision() async throws -> Int64 { state.withLock { $0.compacted } }

    /// Forgets every version older than `revision` that a later one replaces, and the changes
    /// up to it: reads and watches from before it get ``ObjectStoreError/compacted(compactRevision:requested:)``.
    public func compact(to revision: Int64) {
        state.withLock { state in
            let target = min(revision, state.revision)
            guard target > state.compacted else { return }
            state.compacted = target
            for (key, versions) in state.versions {
                let lastOld = versions.lastIndex { $0.modRevision <= target }
                guard let lastOld else { continue }
                var kept = Array(versions[lastOld...])
                if kept.first?.value == nil { kept.removeFirst() }
                state.versions[key] = kept.isEmpty ? nil : kept
            }
            state.log.removeAll { $0.revision < target }
        }
    }
}
