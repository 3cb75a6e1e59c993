import Synchronization

/// The registry of watchers and the fan-out of committed changes to them.
///
/// The hub knows the last revision it delivered. A new watcher that starts at or before it
/// is registered "catching up": live changes are held for it while its history is read from
/// the database, then released behind the history, so that it sees every change exactly
/// once and in order.
///
/// Locking: `state` guards the registry and is never held while a stream is yielded to or
/// finished, because a stream's termination handler (run by a consumer being cancelled,
/// while the runtime holds that task's lock) calls back into ``remove(_:)``. Yields happen
/// under `delivery` instead, which serializes them so that each watcher receives changes
/// and progress markers in order; ``remove(_:)`` never takes `delivery`.
final class WatchHub: Sendable {
    typealias Continuation = AsyncThrowingStream<WatchMessage, any Error>.Continuation

    private struct Watcher {
        var range: KeyRange
        var startRevision: Int64
        var continuation: Continuation
        /// Live messages held while the history is read; `nil` once live.
        var held: [WatchMessage]?
        /// How many changes `held` holds.
        var heldEvents = 0
    }

    private struct State {
        var revision: Int64
        var watchers: [Int: Watcher] = [:]
        var nextID = 1
    }

    /// The most changes held for one catching-up watcher before it is dropped as too slow.
    static let maxHeldEvents = 1 << 20

    private let state: Mutex<State>
    private let delivery = Mutex(())

    init(revision: Int64) {
        state = Mutex(State(revision: revision))
    }

    /// The last revision delivered to watchers.
    var revision: Int64 { state.withLock { $0.revision } }

    /// How many watchers are registered.
    var watcherCount: Int { state.withLock { $0.watchers.count } }

    /// Registers a watcher of `range` from `startRevision` (0 = from the next change).
    /// Returns its ID, the revision it starts from, and the last delivered revision `H`: if
    /// the start is at or before `H`, the caller must feed it the history up to `H` and then
    /// call ``finishCatchUp(_:)``.
    func register(_ range: KeyRange, startRevision: Int64, continuation: Continuation) -> (id: Int, start: Int64, delivered: Int64) {
        state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            let start = startRevision > 0 ? startRevision : s.revision + 1
            let catchingUp = start <= s.revision
            s.watchers[id] = Watcher(range: range, startRevision: start, continuation: continuation, held: catchingUp ? [] : nil)
            return (id, start, s.revision)
        }
    }

    /// Releases the messages held for a watcher whose history has been fed, and makes it live.
    func finishCatchUp(_ id: Int) {
        let overflowed: Continuation? = delivery.withLock { _ in
            let taken: (Continuation, [WatchMessage])? = state.withLock { s in
                guard let w = s.watchers[id], let held = w.held else { return nil }
                s.watchers[id]?.held = nil
                s.watchers[id]?.heldEvents = 0
                return (w.continuation, held)
            }
            guard let (continuation, held) = taken else { return nil }
            for message in held {
                if case .dropped = continuation.yield(message) { return continuation }
            }
            return nil
        }
        if let overflowed { drop(id, overflowed) }
    }

    /// Ends a watcher's stream normally and removes it.
    func cancel(_ id: Int) {
        let removed = state.withLock { $0.watchers.removeValue(forKey: id) }
        removed?.continuation.finish()
    }

    /// Removes a watcher (it stopped, or its consumer went away). Takes only `state`.
    func remove(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    /// Delivers changes, which must follow the last delivered revision without a gap, in order.
    func deliver(_ events: [Event]) {
        guard let last = events.last else { return }
        let overflowed: [(Int, Continuation)] = delivery.withLock { _ in
            // Under `state`: advance the revision, hold changes for catching-up watchers,
            // and pick what live watchers get; yield afterwards, outside `state`.
            let (live, tooSlow): ([(Int, Continuation, [Event])], [(Int, Continuation)]) = state.withLock { s in
                s.revision = max(s.revision, last.revision)
                var live: [(Int, Continuation, [Event])] = []
                var tooSlow: [(Int, Continuation)] = []
                for (id, w) in s.watchers {
                    let matching = events.filter { $0.revision >= w.startRevision && w.range.contains($0.kv.key) }
                    if matching.isEmpty { continue }
                    if w.held != nil {
                        if w.heldEvents + matching.count > Self.maxHeldEvents {
                            tooSlow.append((id, w.continuation))
                        } else {
                            s.watchers[id]?.held?.append(.events(matching))
                            s.watchers[id]?.heldEvents += matching.count
                        }
                    } else {
                        live.append((id, w.continuation, matching))
                    }
                }
                return (live, tooSlow)
            }
            var dropped = tooSlow
            for (id, continuation, matching) in live {
                if case .dropped = continuation.yield(.events(matching)) { dropped.append((id, continuation)) }
            }
            return dropped
        }
        for (id, continuation) in overflowed { drop(id, continuation) }
    }

    /// Puts a progress marker for the last delivered revision into a watcher's stream, behind
    /// every change already queued for it. Returns `false` if there is no such watcher.
    @discardableResult
    func requestProgress(_ id: Int) -> Bool {
        let result: (found: Bool, overflowed: Continuation?) = delivery.withLock { _ in
            // Deliveries take `delivery` too, so the revision read here stays the last one
            // delivered until the marker is queued.
            let target: (Continuation?, WatchMessage)? = state.withLock { s in
                guard let w = s.watchers[id] else { return nil }
                let marker = WatchMessage.progress(revision: s.revision)
                if w.held != nil {
                    s.watchers[id]?.held?.append(marker)
                    return (nil, marker)
                }
                return (w.continuation, marker)
            }
            guard let (continuation, marker) = target else { return (false, nil) }
            guard let continuation else { return (true, nil) }
            if case .dropped = continuation.yield(marker) { return (true, continuation) }
            return (true, nil)
        }
        if let overflowed = result.overflowed { drop(id, overflowed) }
        return result.found
    }

    /// Ends every watcher with `error` (or normally when `nil`).
    func closeAll(_ error: (any Error)? = nil) {
        let all = state.withLock { s in
            defer { s.watchers = [:] }
            return s.watchers.values.map(\.continuation)
        }
        for c in all { c.finish(throwing: error) }
    }

    /// Removes a watcher that fell behind and ends its stream with the overflow error.
    private func drop(_ id: Int, _ continuation: Continuation) {
        remove(id)
        continuation.finish(throwing: KineError.watcherOverflow)
    }
}
