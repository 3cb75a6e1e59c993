@testable import APIServer
import Synchronization

/// A store that hands everything to the one it wraps, after the test's hooks have seen the
/// reads and updates: a hook can fail a read (a replicated database without a leader) or
/// write first itself (another writer coming between an engine's read and its write).
final class InterceptingObjectStore: ObjectStore {
    typealias ReadHook = @Sendable (String) throws -> Void
    typealias UpdateHook = @Sendable (String, any ObjectStore) async throws -> Void

    let base: any ObjectStore
    private let hooks: Mutex<(read: ReadHook, update: UpdateHook)>
    /// Runs before a watch starts (a store slow to start one).
    private let watchHook = Mutex<@Sendable () async -> Void>({})

    init(_ base: any ObjectStore, read: @escaping ReadHook = { _ in }, update: @escaping UpdateHook = { _, _ in }) {
        self.base = base
        hooks = Mutex((read, update))
    }

    /// From now on, reads of keys `which` picks fail as a store without a leader does (a
    /// question for the current revision is a read of the key "").
    func failReads(_ which: @escaping @Sendable (String) -> Bool) {
        hooks.withLock {
            $0.read = { key in if which(key) { throw ObjectStoreError.unavailable("injected: no leader") } }
        }
    }

    /// A store in which every other update of `key` is preceded by another writer's change
    /// of the object (as a controller writing its status): that update then conflicts.
    static func racing(_ base: any ObjectStore, key: String) -> InterceptingObjectStore {
        let updates = Mutex(0)
        return InterceptingObjectStore(base, update: { updated, store in
            guard updated == key, updates.withLock({ $0 += 1; return $0 % 2 == 1 }),
                  let current = try await store.get(key, revision: 0) else { return }
            var other = current.object
            other[path: ["metadata", "annotations", "raced"]] = .string("yes")
            _ = try await store.update(key, other, expectedRevision: current.modRevision)
        })
    }

    func get(_ key: String, revision: Int64) async throws -> StoredObject? {
        try hooks.withLock { $0.read }(key)
        return try await base.get(key, revision: revision)
    }

    func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        try await hooks.withLock { $0.update }(key, base)
        return try await base.update(key, object, expectedRevision: expectedRevision)
    }

    func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        try await base.create(key, object, alongside: writes)
    }

    func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome {
        try await base.delete(key, expectedRevision: expectedRevision)
    }

    func list(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) async throws -> ListPage {
        try await base.list(prefix: prefix, startKey: startKey, revision: revision, limit: limit, counting: counting)
    }

    /// From now on, every watch waits for `hook` before it starts.
    func delayWatches(_ hook: @escaping @Sendable () async -> Void) {
        watchHook.withLock { $0 = hook }
    }

    func watch(prefix: String, after revision: Int64) async throws -> StoreWatch {
        await watchHook.withLock { $0 }()
        return try await base.watch(prefix: prefix, after: revision)
    }

    func watch(prefix: String, after revision: Int64, sink: some StoreWatchSink) async throws -> Int {
        await watchHook.withLock { $0 }()
        return try await base.watch(prefix: prefix, after: revision, sink: sink)
    }
    func requestProgress(_ watchID: Int) -> Bool { base.requestProgress(watchID) }
    func cancelWatch(_ watchID: Int) { base.cancelWatch(watchID) }
    func currentRevision() async throws -> Int64 {
        try hooks.withLock { $0.read }("")
        return try await base.currentRevision()
    }
    func compactRevision() async throws -> Int64 { try await base.compactRevision() }
}
