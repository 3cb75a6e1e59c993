import Logging
import Synchronization

/// The uid of every object under a key prefix, kept from a watch: whether an object a
/// credential names still exists is answered from memory, not by a read of the store (a
/// service account token names its account and the pod, secret or node it is bound to).
public final class WatchedUIDs: Sendable {
    private let held = Held()
    private let follower: WatchedPrefix
    private let store: any ObjectStore

    public init(prefix: String, store: any ObjectStore, logger: Logger) {
        self.store = store
        follower = WatchedPrefix(prefix: prefix, store: store, logger: logger, state: held)
    }

    /// How many objects are known.
    public var count: Int { held.count }

    /// Reads every object; after this it answers. Call before serving.
    public func load() async throws { try await follower.load() }

    /// Follows changes until cancelled.
    public func run() async { await follower.run() }

    /// Whether the object at `key` exists with `uid`. A yes comes from memory; a no is
    /// decided once every change committed before the call is in (an object created a moment
    /// ago counts); if the watch is more than `limit` behind, the store is read instead.
    /// Throws when the store does not answer.
    public func contains(_ key: String, uid: String, limit: Duration = .seconds(2)) async throws -> Bool {
        if held.uid(key) == uid { return true }
        if try await follower.caughtUp(limit: limit) { return held.uid(key) == uid }
        return try await store.get(key)?.object[path: ["metadata", "uid"]]?.stringValue == uid
    }

    private final class Held: WatchedPrefixState {
        private let uids = Mutex<[String: String]>([:])

        var count: Int { uids.withLock { $0.count } }

        func uid(_ key: String) -> String? { uids.withLock { $0[key] } }

        func reset(_ objects: [String: JSON]) {
            var fresh: [String: String] = [:]
            for (key, object) in objects { fresh[key] = object[path: ["metadata", "uid"]]?.stringValue ?? "" }
            uids.withLock { $0 = fresh }
        }

        func apply(_ changes: [(key: String, object: JSON?)]) {
            uids.withLock { uids in
                for (key, object) in changes { uids[key] = object.map { $0[path: ["metadata", "uid"]]?.stringValue ?? "" } }
            }
        }
    }
}
