import Logging
import Synchronization

/// The objects under one key prefix, kept in memory from a watch (the policy caches every
/// server keeps: RBAC, admission policies) by a ``WatchedPrefix``. ``catchUp(limit:)`` waits
/// until every change the store had committed is in, so that a decision sees an object
/// written just before.
public final class WatchedObjects: Sendable {
    public var prefix: String { follower.prefix }
    private let held: Held
    private let follower: WatchedPrefix

    public init(prefix: String, store: any ObjectStore, logger: Logger, onChange: (@Sendable ([String: JSON]) -> Void)? = nil) {
        held = Held(onChange: onChange)
        follower = WatchedPrefix(prefix: prefix, store: store, logger: logger, state: held)
    }

    /// The objects by key, and the generation they are at.
    public var snapshot: (objects: [String: JSON], generation: Int) { held.snapshot }

    /// The keys of the objects under `prefix` (within this cache's own prefix), in key order.
    public func keys(withPrefix prefix: String) -> [String] {
        held.snapshot.objects.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Reads every object; after this the cache answers. Call before serving.
    public func load() async throws { try await follower.load() }

    /// Follows changes until cancelled, reading everything again when the watch fails.
    public func run() async { await follower.run() }

    /// Waits (up to `limit`) until every change the store had committed when called is in.
    public func catchUp(limit: Duration = .seconds(2)) async { await follower.catchUp(limit: limit) }

    /// The same, saying whether it happened in time; throws when the store does not answer.
    public func caughtUp(limit: Duration = .seconds(2)) async throws -> Bool { try await follower.caughtUp(limit: limit) }

    /// The objects themselves, with a generation counting changes (so that derived indexes
    /// know when to rebuild); `onChange` is called with all of them after every change.
    private final class Held: WatchedPrefixState {
        private struct State {
            var objects: [String: JSON] = [:]
            var generation = 0
        }

        let onChange: (@Sendable ([String: JSON]) -> Void)?
        private let state = Mutex(State())

        init(onChange: (@Sendable ([String: JSON]) -> Void)?) { self.onChange = onChange }

        var snapshot: (objects: [String: JSON], generation: Int) { state.withLock { ($0.objects, $0.generation) } }

        func reset(_ objects: [String: JSON]) {
            state.withLock {
                $0.objects = objects
                $0.generation += 1
            }
            onChange?(snapshot.objects)
        }

        func apply(_ changes: [(key: String, object: JSON?)]) {
            state.withLock {
                for (key, object) in changes { $0.objects[key] = object }
                $0.generation += 1
            }
            onChange?(snapshot.objects)
        }
    }
}
