/// What a create that carries other writes did.
public enum CreateOutcome: Sendable {
    case created(StoredObject)
    /// The key exists.
    case exists
    /// One of the other writes' objects changed since it was read.
    case conflict
}

/// What a conditional update or delete did.
public enum WriteOutcome: Sendable {
    case written(StoredObject)
    /// The object is no longer at the expected revision.
    case conflict
    /// There is no such object.
    case missing
}

/// One page of a listing.
public struct ListPage: Sendable {
    /// The revision the page was read at.
    public var revision: Int64
    public var entries: [StoredEntry]
    /// Whether objects follow the page.
    public var more: Bool
    /// How many objects follow the page, when the store counted them.
    public var remaining: Int64?
}

/// The seam between the API server and its storage (as Kubernetes' `storage.Interface`):
/// Kubernetes objects under registry keys, each change a new revision, an object's
/// resourceVersion the revision of its last change. ``KineObjectStore`` keeps them in the
/// kine layer over SQLite or dqlite; ``MemoryObjectStore`` in memory, for in-process tests.
public protocol ObjectStore: Sendable {
    /// The object under `key` at `revision` (0: now), `nil` if there is none.
    func get(_ key: String, revision: Int64) async throws -> StoredObject?

    /// Creates the object and makes `alongside` in one change; nothing is written if the key
    /// exists or one of the other objects is no longer at its expected revision.
    func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome

    /// Replaces the object if it is still at `expectedRevision`.
    func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome

    /// Deletes the object if it is still at `expectedRevision`; the result carries the object
    /// with the deletion's revision.
    func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome

    /// One page of at most `limit` (0: all) objects under `prefix` from `startKey`, at
    /// `revision` (0: now); with `counting`, how many objects follow the page (a limited
    /// page's `remaining`).
    func list(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) async throws -> ListPage

    /// A watch of every change under `prefix` after `revision`, with the progress markers
    /// ``requestProgress(_:)`` asks for; the caller ends it with ``cancelWatch(_:)``. Throws
    /// ``ObjectStoreError/compacted(compactRevision:requested:)`` when the changes after
    /// `revision` are no longer kept.
    func watch(prefix: String, after revision: Int64) async throws -> StoreWatch

    /// A watch as ``watch(prefix:after:)`` for a reader that wants only the changes `keep`
    /// accepts: a store may leave the others out before they reach the reader (the watch
    /// cache does, so a hundred kubelets' watches of pods by node are not each woken for
    /// every pod), or pass them all (the reader checks each change again).
    func watch(prefix: String, after revision: Int64, keep: @escaping StoreEventFilter) async throws -> StoreWatch

    /// A watch as ``watch(prefix:after:)``, its messages handed to `sink` as they are
    /// delivered: where the store delivers synchronously, a progress marker asked for with
    /// ``requestProgress(_:)`` has reached the sink when that call returns. Returns the
    /// watch's ID.
    func watch(prefix: String, after revision: Int64, sink: some StoreWatchSink) async throws -> Int

    /// Asks a watch for a progress marker; `false` if it has ended.
    @discardableResult
    func requestProgress(_ watchID: Int) -> Bool

    func cancelWatch(_ watchID: Int)

    func currentRevision() async throws -> Int64

    /// A revision at least that of every write any client has been answered for, through any
    /// member: what a consistent read must reflect. Cheaper than ``currentRevision()`` where
    /// the store knows it without asking its database.
    func consistentRevision() async throws -> Int64

    /// One page as ``list(prefix:startKey:revision:limit:counting:)`` reads it, at any
    /// revision not older than `minimumRevision` (0: any): a cache may answer from memory.
    func list(prefix: String, startKey: String?, notOlderThan minimumRevision: Int64, limit: Int, counting: Bool) async throws -> ListPage

    /// The oldest revision still readable.
    func compactRevision() async throws -> Int64
}

extension ObjectStore {
    public func consistentRevision() async throws -> Int64 { try await currentRevision() }

    /// Passes every change: the reader checks each one.
    public func watch(prefix: String, after revision: Int64, keep: @escaping StoreEventFilter) async throws -> StoreWatch {
        try await watch(prefix: prefix, after: revision)
    }

    /// Reads now: the newest revision is never older than asked.
    public func list(prefix: String, startKey: String?, notOlderThan minimumRevision: Int64, limit: Int, counting: Bool) async throws -> ListPage {
        try await list(prefix: prefix, startKey: startKey, revision: 0, limit: limit, counting: counting)
    }

    /// The object under `key` now, `nil` if there is none.
    public func get(_ key: String) async throws -> StoredObject? { try await get(key, revision: 0) }

    /// Creates the object; `nil` if the key exists.
    public func create(_ key: String, _ object: JSON) async throws -> StoredObject? {
        switch try await create(key, object, alongside: []) {
        case .created(let stored): return stored
        case .exists, .conflict: return nil
        }
    }

    /// Every object under `prefix` at `revision` (0 = now), read page by page.
    public func forEach(prefix: String, revision: Int64 = 0, _ body: (StoredEntry) async throws -> Void) async throws {
        var start: String? = nil
        var at = revision
        while true {
            let page = try await list(prefix: prefix, startKey: start, revision: at, limit: 500, counting: false)
            at = page.revision
            for entry in page.entries { try await body(entry) }
            guard page.more, let last = page.entries.last else { return }
            start = last.key + "\u{0}"
        }
    }

    /// Hands every batch of changes under `prefix` after `revision` to `body`, until
    /// cancelled or the watch fails.
    public func watchChanges(prefix: String, after revision: Int64, _ body: ([StoreEvent]) async throws -> Void) async throws {
        let watch = try await watch(prefix: prefix, after: revision)
        defer { cancelWatch(watch.id) }
        for try await message in watch.stream {
            if case .events(let events) = message { try await body(events) }
        }
    }

    /// Reads the object under `key`, hands it to `tryUpdate` and writes what that returns if
    /// the object has not changed in between; on a conflict it reads and tries again, up to
    /// `attempts` times, then throws 409. `tryUpdate` returns `nil` to leave the object as it
    /// is. Returns the object as stored afterwards, `nil` if there is none.
    @discardableResult
    public func guaranteedUpdate(_ key: String, attempts: Int = 16,
                                 _ tryUpdate: (StoredObject) async throws -> JSON?) async throws -> StoredObject? {
        for _ in 0..<max(1, attempts) {
            guard let current = try await get(key) else { return nil }
            guard let updated = try await tryUpdate(current) else { return current }
            switch try await update(key, updated, expectedRevision: current.modRevision) {
            case .written(let stored): return stored
            case .missing: return nil
            case .conflict: continue
            }
        }
        throw StatusError(code: 409, reason: "Conflict",
                          message: "Operation cannot be fulfilled on \(key): the object kept changing; \(attempts) attempts to update it conflicted")
    }
}
