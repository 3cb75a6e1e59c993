import KineLayer

/// The ``ObjectStore`` over the kine layer (SQLite on one node, dqlite in a cluster): objects
/// are JSON values under their registry keys, revisions are the log's. The only type of the
/// API server that talks to the kine layer.
public struct KineObjectStore: ObjectStore {
    let kine: KineStore

    public init(kine: KineStore) {
        self.kine = kine
    }

    /// Runs a kine call; the kine layer's revision and availability errors come out as
    /// ``ObjectStoreError``s.
    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as KineError {
            switch error {
            case .keyExists, .conflict, .notFound: throw error
            default: throw ObjectStoreError.classify(error) ?? error
            }
        } catch {
            throw ObjectStoreError.classify(error) ?? error
        }
    }

    private static func entry(_ kv: KeyValue) -> StoredEntry {
        StoredEntry(key: kv.keyString, modRevision: kv.modRevision, value: kv.value)
    }

    public func get(_ key: String, revision: Int64) async throws -> StoredObject? {
        guard let kv = try await mapped({ try await kine.get(Array(key.utf8), revision: revision).kv }) else { return nil }
        return try StoredCodec.decode(Self.entry(kv))
    }

    public func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        let keyBytes = Array(key.utf8)
        let value = try StoredCodec.encodeChecked(object)
        if writes.isEmpty {
            do {
                let kv = try await mapped { try await kine.create(keyBytes, value: value) }
                return .created(StoredObject(object: StoredCodec.withRevision(object, kv.modRevision), modRevision: kv.modRevision, key: key))
            } catch KineError.keyExists {
                return .exists
            }
        }
        var txn = Txn(compares: [TxnCompare(range: .key(keyBytes), target: .createRevision(0), relation: .equal)],
                      success: [.put(TxnPut(key: keyBytes, value: value))])
        for write in writes {
            let bytes = Array(write.key.utf8)
            txn.compares.append(TxnCompare(range: .key(bytes), target: .modRevision(write.expectedRevision), relation: .equal))
            txn.success.append(.put(TxnPut(key: bytes, value: StoredCodec.encode(write.object))))
        }
        var existing = RangeQuery(range: .key(keyBytes))
        existing.keysOnly = true
        txn.failure = [.range(existing)]
        let result = try await mapped { try await kine.txn(txn) }
        guard result.succeeded else {
            if case .range(let found)? = result.results.first, !found.kvs.isEmpty { return .exists }
            return .conflict
        }
        return .created(StoredObject(object: StoredCodec.withRevision(object, result.revision), modRevision: result.revision, key: key))
    }

    public func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        let value = try StoredCodec.encodeChecked(object)
        do {
            let kv = try await mapped {
                try await kine.update(Array(key.utf8), value: value, expectedModRevision: expectedRevision)
            }
            return .written(StoredObject(object: StoredCodec.withRevision(object, kv.modRevision), modRevision: kv.modRevision, key: key))
        } catch KineError.conflict {
            return .conflict
        } catch KineError.notFound {
            return .missing
        }
    }

    public func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome {
        do {
            let (revision, deleted) = try await mapped { try await kine.delete(Array(key.utf8), expectedModRevision: expectedRevision) }
            return .written(try StoredCodec.decode(Self.entry(deleted), revision: revision))
        } catch KineError.conflict {
            return .conflict
        } catch KineError.notFound {
            return .missing
        }
    }

    public func list(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) async throws -> ListPage {
        let prefixBytes = Array(prefix.utf8)
        let range: KeyRange
        if let startKey {
            range = .between(Array(startKey.utf8), KeyRange.prefixEnd(prefixBytes) ?? [0xFF])
        } else {
            range = .prefix(prefixBytes)
        }
        let result = try await mapped { try await kine.list(range, revision: revision, limit: limit, withCount: counting && limit > 0) }
        let entries = result.kvs.map(Self.entry)
        return ListPage(revision: revision > 0 ? revision : result.revision, entries: entries, more: result.more,
                        remaining: result.count.map { $0 - Int64(entries.count) })
    }

    public func watch(prefix: String, after revision: Int64) async throws -> StoreWatch {
        let watch = try await mapped { try await kine.watch(.prefix(Array(prefix.utf8)), startRevision: revision + 1) }
        return StoreWatch(id: watch.id, stream: Messages(stream: watch.stream))
    }

    public func watch(prefix: String, after revision: Int64, sink: some StoreWatchSink) async throws -> Int {
        try await mapped { try await kine.watch(.prefix(Array(prefix.utf8)), startRevision: revision + 1, sink: Sink(target: sink)) }
    }

    /// The kine layer's deliveries, mapped to the store's and handed on in the same call.
    struct Sink<Target: StoreWatchSink>: WatchSink {
        let target: Target

        func receive(_ message: WatchMessage) -> Bool {
            switch message {
            case .events(let events): return target.receive(.events(events.map(KineObjectStore.event)))
            case .progress(let revision): return target.receive(.progress(revision: revision))
            }
        }

        func finish(_ error: (any Error)?) {
            target.finish(error.map { ObjectStoreError.classify($0) ?? $0 })
        }
    }

    /// A kine watch's messages as the store's, mapped as they are read (no task in between).
    struct Messages: AsyncSequence, Sendable {
        let stream: AsyncThrowingStream<WatchMessage, any Error>

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncThrowingStream<WatchMessage, any Error>.AsyncIterator

            mutating func next() async throws -> StoreWatchMessage? {
                do {
                    switch try await base.next() {
                    case .events(let events)?: return .events(events.map(KineObjectStore.event))
                    case .progress(let revision)?: return .progress(revision: revision)
                    case nil: return nil
                    }
                } catch {
                    throw ObjectStoreError.classify(error) ?? error
                }
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator()) }
    }

    static func event(_ event: Event) -> StoreEvent {
        StoreEvent(kind: event.kind == .put ? .put : .delete, key: event.kv.keyString,
                   value: event.kind == .put ? event.kv.value : [], revision: event.revision,
                   isCreate: event.isCreate, previous: event.prevKV.map(entry))
    }

    @discardableResult
    public func requestProgress(_ watchID: Int) -> Bool { kine.requestProgress(watchID) }

    public func cancelWatch(_ watchID: Int) { kine.cancelWatch(watchID) }

    public func currentRevision() async throws -> Int64 { try await mapped { try await kine.currentRevision() } }
    public func consistentRevision() async throws -> Int64 { try await mapped { try await kine.consistentRevision() } }
    public func compactRevision() async throws -> Int64 { try await mapped { try await kine.compactRevision() } }
}
