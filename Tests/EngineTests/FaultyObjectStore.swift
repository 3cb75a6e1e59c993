@testable import APIServer
import Synchronization

/// A store that fails reads of the keys a test picks with the error a replicated database
/// without a leader gives, and passes everything else to the store it wraps.
final class FaultyObjectStore: ObjectStore {
    let base: any ObjectStore
    private let failing = Mutex<@Sendable (String) -> Bool>({ _ in false })

    init(_ base: any ObjectStore) { self.base = base }

    /// From now on, reads of keys `which` picks fail.
    func fail(_ which: @escaping @Sendable (String) -> Bool) { failing.withLock { $0 = which } }

    private func check(_ key: String) throws {
        if failing.withLock({ $0 })(key) { throw ObjectStoreError.unavailable("injected: no leader") }
    }

    func get(_ key: String, revision: Int64) async throws -> StoredObject? {
        try check(key)
        return try await base.get(key, revision: revision)
    }

    func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        try await base.create(key, object, alongside: writes)
    }

    func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        try await base.update(key, object, expectedRevision: expectedRevision)
    }

    func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome {
        try await base.delete(key, expectedRevision: expectedRevision)
    }

    func list(prefix: String, startKey: String?, revision: Int64, limit: Int) async throws -> ListPage {
        try await base.list(prefix: prefix, startKey: startKey, revision: revision, limit: limit)
    }

    func watch(prefix: String, after revision: Int64) async throws -> StoreWatch { try await base.watch(prefix: prefix, after: revision) }
    func requestProgress(_ watchID: Int) -> Bool { base.requestProgress(watchID) }
    func cancelWatch(_ watchID: Int) { base.cancelWatch(watchID) }
    func currentRevision() async throws -> Int64 { try await base.currentRevision() }
    func compactRevision() async throws -> Int64 { try await base.compactRevision() }
}
