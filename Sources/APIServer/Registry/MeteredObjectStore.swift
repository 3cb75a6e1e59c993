/// An ``ObjectStore`` that records the latency of every call to the one it wraps in the
/// server's metrics (`skiff_storage_duration_seconds`, by operation).
public struct MeteredObjectStore: ObjectStore {
    let base: any ObjectStore
    let metrics: APIMetrics

    public init(_ base: any ObjectStore, metrics: APIMetrics) {
        self.base = base
        self.metrics = metrics
    }

    private func timed<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { metrics.recordStorage(operation: operation, seconds: (ContinuousClock.now - start).inSeconds) }
        return try await body()
    }

    public func get(_ key: String, revision: Int64) async throws -> StoredObject? {
        try await timed("get") { try await base.get(key, revision: revision) }
    }

    public func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        try await timed("create") { try await base.create(key, object, alongside: writes) }
    }

    public func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        try await timed("update") { try await base.update(key, object, expectedRevision: expectedRevision) }
    }

    public func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome {
        try await timed("delete") { try await base.delete(key, expectedRevision: expectedRevision) }
    }

    public func list(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) async throws -> ListPage {
        try await timed("list") { try await base.list(prefix: prefix, startKey: startKey, revision: revision, limit: limit, counting: counting) }
    }

    public func watch(prefix: String, after revision: Int64) async throws -> StoreWatch {
        try await base.watch(prefix: prefix, after: revision)
    }

    public func watch(prefix: String, after revision: Int64, sink: some StoreWatchSink) async throws -> Int {
        try await base.watch(prefix: prefix, after: revision, sink: sink)
    }

    @discardableResult
    public func requestProgress(_ watchID: Int) -> Bool { base.requestProgress(watchID) }

    public func cancelWatch(_ watchID: Int) { base.cancelWatch(watchID) }

    public func currentRevision() async throws -> Int64 { try await base.currentRevision() }

    public func consistentRevision() async throws -> Int64 { try await base.consistentRevision() }

    public func compactRevision() async throws -> Int64 { try await base.compactRevision() }
}
