import KineLayer

/// An object as stored, with the revision that last changed it.
public struct StoredObject: Sendable {
    /// The object, `metadata.resourceVersion` set to `modRevision`.
    public var object: JSON
    public var modRevision: Int64
    public var key: String
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
            let elapsed = ContinuousClock.now - start
            metrics?.recordStorage(operation: operation,
                                   seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return try await body()
    }

    /// Decodes a stored value, setting its resourceVersion.
    static func decode(_ kv: KeyValue, revision: Int64? = nil) throws -> StoredObject {
        var object: JSON
        do {
            object = try JSON.parse(kv.value)
        } catch {
            throw StatusError.internalError("stored object \(kv.keyString) is not valid JSON: \(error)")
        }
        let rv = revision ?? kv.modRevision
        object[path: ["metadata", "resourceVersion"]] = .string(String(rv))
        return StoredObject(object: object, modRevision: rv, key: kv.keyString)
    }

    /// The bytes stored for an object: without resourceVersion.
    static func encode(_ object: JSON) -> [UInt8] {
        var stored = object
        stored[path: ["metadata", "resourceVersion"]] = nil
        return stored.serialized()
    }

    public func get(_ key: String, revision: Int64 = 0) async throws -> StoredObject? {
        guard let kv = try await timed("get", { try await kine.get(Array(key.utf8), revision: revision).kv }) else { return nil }
        return try Self.decode(kv)
    }

    /// Creates the object; `nil` if the key exists.
    public func create(_ key: String, _ object: JSON) async throws -> StoredObject? {
        do {
            let kv = try await timed("create") { try await kine.create(Array(key.utf8), value: Self.encode(object)) }
            var object = object
            object[path: ["metadata", "resourceVersion"]] = .string(String(kv.modRevision))
            return StoredObject(object: object, modRevision: kv.modRevision, key: key)
        } catch KineError.keyExists {
            return nil
        }
    }

    public enum WriteOutcome: Sendable {
        case written(StoredObject)
        case conflict
        case missing
    }

    /// Replaces the object if it is still at `expectedRevision`.
    public func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        do {
            let kv = try await timed("update") {
                try await kine.update(Array(key.utf8), value: Self.encode(object), expectedModRevision: expectedRevision)
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
        -> (revision: Int64, objects: [StoredObject], more: Bool, remaining: Int64?) {
        let prefixBytes = Array(prefix.utf8)
        let range: KeyRange
        if let startKey {
            range = .between(Array(startKey.utf8), KeyRange.prefixEnd(prefixBytes) ?? [0xFF])
        } else {
            range = .prefix(prefixBytes)
        }
        let result = try await timed("list") { try await kine.list(range, revision: revision, limit: limit, withCount: limit > 0) }
        let objects = try result.kvs.map { try Self.decode($0) }
        let remaining = result.count.map { $0 - Int64(objects.count) }
        return (revision > 0 ? revision : result.revision, objects, result.more, remaining)
    }

    public func currentRevision() async throws -> Int64 { try await kine.currentRevision() }
    public func compactRevision() async throws -> Int64 { try await kine.compactRevision() }
}
