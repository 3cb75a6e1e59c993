import KineLayer

/// An object as stored, with the revision that last changed it.
public struct StoredObject: Sendable {
    /// The object, `metadata.resourceVersion` set to `modRevision`.
    public var object: JSON
    public var modRevision: Int64
    public var key: String
}

/// An object as listed: its stored bytes, decoded only when needed (a plain list splices
/// the resourceVersion into the bytes instead of parsing them).
public struct StoredEntry: Sendable {
    public var key: String
    public var modRevision: Int64
    public var value: [UInt8]

    /// The parsed object, resourceVersion set.
    public func decoded() throws -> JSON {
        try ObjectStore.decode(value, key: key, revision: modRevision)
    }

    /// The stored JSON with `"resourceVersion"` inserted into the top-level `metadata`
    /// object, found by a scan that follows strings and nesting; `nil` if there is none.
    public func bytesWithResourceVersion() -> [UInt8]? {
        let marker = Array("\"metadata\"".utf8)
        var depth = 0
        var inString = false
        var escaped = false
        var i = 0
        let bytes = value
        while i < bytes.count {
            let byte = bytes[i]
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                i += 1
                continue
            }
            switch byte {
            case 0x22:
                if depth == 1, bytes.count - i > marker.count, Array(bytes[i..<i + marker.count]) == marker {
                    var j = i + marker.count
                    while j < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[j]) { j += 1 }
                    guard j < bytes.count, bytes[j] == UInt8(ascii: ":") else { break }
                    j += 1
                    while j < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[j]) { j += 1 }
                    guard j < bytes.count, bytes[j] == UInt8(ascii: "{") else { return nil }
                    var k = j + 1
                    while k < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[k]) { k += 1 }
                    let empty = k < bytes.count && bytes[k] == UInt8(ascii: "}")
                    var out: [UInt8] = []
                    out.reserveCapacity(bytes.count + 32)
                    out.append(contentsOf: bytes[...j])
                    out.append(contentsOf: "\"resourceVersion\":\"\(modRevision)\"".utf8)
                    if !empty { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: bytes[(j + 1)...])
                    return out
                }
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
            i += 1
        }
        return nil
    }
}

/// Kubernetes objects in the key-value log: JSON values under registry keys, the
/// resourceVersion being the revision of the object's last change (never stored in the value).
public struct ObjectStore: Sendable {
    public let kine: KineStore
    /// Where storage latencies are recorded.
    let metrics: APIMetrics?

    public init(kine: KineStore, metrics: APIMetrics? = nil) {
        self.kine = kine
        self.metrics = metrics
    }

    /// Runs a storage operation, recording its latency.
    private func timed<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer {
            metrics?.recordStorage(operation: operation, seconds: (ContinuousClock.now - start).inSeconds)
        }
        return try await body()
    }

    /// Decodes a stored value, setting its resourceVersion.
    static func decode(_ kv: KeyValue, revision: Int64? = nil) throws -> StoredObject {
        let rv = revision ?? kv.modRevision
        return StoredObject(object: try decode(kv.value, key: kv.keyString, revision: rv), modRevision: rv, key: kv.keyString)
    }

    /// Parses stored bytes, setting the object's resourceVersion.
    static func decode(_ value: [UInt8], key: String, revision: Int64) throws -> JSON {
        var object: JSON
        do {
            object = try JSON.parse(value)
        } catch {
            throw StatusError.internalError("stored object \(key) is not valid JSON: \(error)")
        }
        object[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return object
    }

    /// The bytes stored for an object: without resourceVersion.
    static func encode(_ object: JSON) -> [UInt8] {
        var stored = object
        stored[path: ["metadata", "resourceVersion"]] = nil
        return stored.serialized()
    }

    /// The most bytes one stored object may take (etcd's default request limit, which
    /// kube-apiserver's objects live under): a patch or apply that grows an object past it is
    /// refused, whatever the size of the request.
    public static let maximumObjectBytes = 1_572_864

    /// The stored bytes of an object that may be written; 413 for one past the limit.
    static func encodeChecked(_ object: JSON) throws -> [UInt8] {
        let bytes = encode(object)
        guard bytes.count <= maximumObjectBytes else {
            throw StatusError(code: 413, reason: "RequestEntityTooLarge",
                              message: "Request entity too large: etcdserver: request is too large (the object is \(bytes.count) bytes; at most \(maximumObjectBytes))")
        }
        return bytes
    }

    public func get(_ key: String, revision: Int64 = 0) async throws -> StoredObject? {
        guard let kv = try await timed("get", { try await kine.get(Array(key.utf8), revision: revision).kv }) else { return nil }
        return try Self.decode(kv)
    }

    /// Creates the object; `nil` if the key exists.
    public func create(_ key: String, _ object: JSON) async throws -> StoredObject? {
        do {
            let value = try Self.encodeChecked(object)
            let kv = try await timed("create") { try await kine.create(Array(key.utf8), value: value) }
            var object = object
            object[path: ["metadata", "resourceVersion"]] = .string(String(kv.modRevision))
            return StoredObject(object: object, modRevision: kv.modRevision, key: key)
        } catch KineError.keyExists {
            return nil
        }
    }

    /// What a create that carries other writes did.
    public enum CreateOutcome: Sendable {
        case created(StoredObject)
        /// The key exists.
        case exists
        /// One of the other writes' objects changed since it was read.
        case conflict
    }

    /// Creates the object and makes `alongside` in one transaction; nothing is written if the
    /// key exists or one of the other objects is no longer at its expected revision.
    public func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        if writes.isEmpty { return try await create(key, object).map { .created($0) } ?? .exists }
        let keyBytes = Array(key.utf8)
        var txn = Txn(compares: [TxnCompare(range: .key(keyBytes), target: .createRevision(0), relation: .equal)],
                      success: [.put(TxnPut(key: keyBytes, value: try Self.encodeChecked(object)))])
        for write in writes {
            let bytes = Array(write.key.utf8)
            txn.compares.append(TxnCompare(range: .key(bytes), target: .modRevision(write.expectedRevision), relation: .equal))
            txn.success.append(.put(TxnPut(key: bytes, value: Self.encode(write.object))))
        }
        var existing = RangeQuery(range: .key(keyBytes))
        existing.keysOnly = true
        txn.failure = [.range(existing)]
        let result = try await timed("create") { try await kine.txn(txn) }
        guard result.succeeded else {
            if case .range(let found)? = result.results.first, !found.kvs.isEmpty { return .exists }
            return .conflict
        }
        var created = object
        created[path: ["metadata", "resourceVersion"]] = .string(String(result.revision))
        return .created(StoredObject(object: created, modRevision: result.revision, key: key))
    }

    public enum WriteOutcome: Sendable {
        case written(StoredObject)
        case conflict
        case missing
    }

    /// Replaces the object if it is still at `expectedRevision`.
    public func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        let value = try Self.encodeChecked(object)
        do {
            let kv = try await timed("update") {
                try await kine.update(Array(key.utf8), value: value, expectedModRevision: expectedRevision)
            }
            var object = object
            object[path: ["metadata", "resourceVersion"]] = .string(String(kv.modRevision))
            return .written(StoredObject(object: object, modRevision: kv.modRevision, key: key))
        } catch KineError.conflict {
            return .conflict
        } catch KineError.notFound {
            return .missing
        }
    }

    /// Deletes the object if it is still at `expectedRevision`; the result carries the object
    /// with the deletion's revision.
    public func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome {
        do {
            let (revision, deleted) = try await timed("delete") { try await kine.delete(Array(key.utf8), expectedModRevision: expectedRevision) }
            return .written(try Self.decode(deleted, revision: revision))
        } catch KineError.conflict {
            return .conflict
        } catch KineError.notFound {
            return .missing
        }
    }

    /// One page of the objects under `prefix` from `startKey`, at `revision` (0 = now).
    public func list(prefix: String, startKey: String?, revision: Int64, limit: Int) async throws
        -> (revision: Int64, entries: [StoredEntry], more: Bool, remaining: Int64?) {
        let prefixBytes = Array(prefix.utf8)
        let range: KeyRange
        if let startKey {
            range = .between(Array(startKey.utf8), KeyRange.prefixEnd(prefixBytes) ?? [0xFF])
        } else {
            range = .prefix(prefixBytes)
        }
        let result = try await timed("list") { try await kine.list(range, revision: revision, limit: limit, withCount: limit > 0) }
        let entries = result.kvs.map { StoredEntry(key: $0.keyString, modRevision: $0.modRevision, value: $0.value) }
        let remaining = result.count.map { $0 - Int64(entries.count) }
        return (revision > 0 ? revision : result.revision, entries, result.more, remaining)
    }

    /// Every object under `prefix` at `revision` (0 = now), read page by page.
    public func forEach(prefix: String, revision: Int64 = 0, _ body: (StoredEntry) async throws -> Void) async throws {
        var start: String? = nil
        while true {
            let page = try await list(prefix: prefix, startKey: start, revision: revision, limit: 500)
            for entry in page.entries { try await body(entry) }
            guard page.more, let last = page.entries.last else { return }
            start = last.key + "\u{0}"
        }
    }

    /// Hands every batch of changes under `prefix` after `revision` to `body`, until
    /// cancelled or the watch fails.
    public func watchChanges(prefix: String, after revision: Int64, _ body: ([Event]) async throws -> Void) async throws {
        let watch = try await kine.watch(.prefix(Array(prefix.utf8)), startRevision: revision + 1)
        defer { kine.cancelWatch(watch.id) }
        for try await message in watch.stream {
            if case .events(let events) = message { try await body(events) }
        }
    }

    /// A watch of every change under `prefix` after `revision`, with the progress markers
    /// ``requestProgress(_:)`` asks for; the caller cancels it with ``cancelWatch(_:)``.
    public func watch(prefix: String, after revision: Int64) async throws -> KineWatch {
        try await kine.watch(.prefix(Array(prefix.utf8)), startRevision: revision + 1)
    }

    /// Asks a watch for a progress marker; `false` if it has ended.
    @discardableResult
    public func requestProgress(_ watchID: Int) -> Bool { kine.requestProgress(watchID) }

    public func cancelWatch(_ watchID: Int) { kine.cancelWatch(watchID) }

    public func currentRevision() async throws -> Int64 { try await kine.currentRevision() }
    public func compactRevision() async throws -> Int64 { try await kine.compactRevision() }
}
