@testable import APIServer
import Synchronization

/// A store in which, before each update of `key`, another writer changes the object first
/// (as a controller writing its status would): the update then conflicts.
final class RacingObjectStore: ObjectStore {
    let base: any ObjectStore
    let key: String
    private let races = Mutex(0)

    init(_ base: any ObjectStore, key: String) {
        self.base = base
        self.key = key
    }

    func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        if key == self.key, races.withLock({ count in count += 1; return count.isMultiple(of: 2) == false }),
           let current = try await base.get(key, revision: 0) {
            var other = current.object
            other[path: ["metadata", "annotations", "raced"]] = .string("yes")
            _ = try await base.update(key, other, expectedRevision: current.modRevision)
        }
        return try await base.update(key, object, expectedRevision: expectedRevision)
    }

    func get(_ key: String, revision: Int64) async throws -> StoredObject? { try await base.get(key, revision: revision) }
    func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        try await base.create(key, object, alongside: writes)
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
