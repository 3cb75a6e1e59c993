import Synchronization

/// The registry of watchers and the fan-out of committed changes to them.
///
/// The hub knows the last revision it delivered. A new watcher that starts at or before it
/// is registered "catching up": live changes are held for it while its history is read from
/// the database, then released behind the history, so that it sees every change exactly
/// once and in order.
///
/// Locking: `state` guards the registry and is never held while a sink is called, because
/// a sink may call back into the hub (a stream's termination handler, run by a consumer
/// being cancelled, calls ``remove(_:)``; a sink's owner may cancel other watches). Sinks
/// receive under `delivery` instead, which serializes deliveries so that each watcher gets
/// changes and progress markers in order; ``remove(_:)`` and ``cancel(_:)`` never take
/// `delivery`.
final class WatchHub: Sendable {
    private struct Watcher {
        var range: KeyRange
        var startRevision: Int64
        var sink: any WatchSink
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
    func register(_ range: KeyRange, startRevision: Int64, sink: any WatchSink) -> (id: Int, start: Int64, delivered: Int64) {
        state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            let start = startRevision > 0 ? startRevision : s.revision + 1
            let catchingUp = start <= s.revision
            s.watchers[id] = Watcher(range: range, startRevision: start, sink: sink, held: catchingUp ? [] : nil)
            return (id, start, s.revision)
        }
    }

    /// Releases the messages held for a watcher whose history has been fed, and makes it live.
    func finishCatchUp(_ id: Int) {
        let overflowed: Bool = delivery.withLock { _ in
            let taken: (any WatchSink, [WatchMessage])? = state.withLock { s in
                guard let w = s.watchers[id], let held = w.held else { return nil }
                s.watchers[id]?.held = nil
                s.watchers[id]?.heldEvents = 0
                return (w.sink, held)
            }
            guard let (sink, held) = taken else { return false }
            return !held.allSatisfy { sink.receive($0) }
        }
        if overflowed { drop(id) }
    }

    /// Ends a watcher normally and removes it.
    func cancel(_ id: Int) {
        let removed = state.withLock { $0.watchers.removeValue(forKey: id) }
        removed?.sink.finish(nil)
    }

    /// Whether a watcher is still registered.
    func contains(_ id: Int) -> Bool {
        state.withLock { $0.watchers[id] != nil }
    }

    /// Removes a watcher (it stopped, or its consumer went away). Takes only `state`.
    func remove(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    /// Delivers changes in revision order. Changes at or before the last delivered revision
    /// were delivered already and are skipped, so two paths may offer overlapping batches.
    /// With `onlyIfNext`, nothing is delivered (and `false` returned) unless the first new
    /// change is exactly one revision after the last delivered one; otherwise the changes
    /// must follow the last delivered revision with no change missing.
    @discardableResult
    func deliver(_ events: [Event], onlyIfNext: Bool = false) -> Bool {
        let outcome: (delivered: Bool, overflowed: [Int]) = delivery.withLock { _ in
            // Under `state`: advance the revision, hold changes for catching-up watchers,
            // and pick what live watchers get; hand over afterwards, outside `state`.
            let picked: (live: [(Int, any WatchSink, [Event])], tooSlow: [Int])? = state.withLock { s in
                let fresh = (events.first?.revision ?? 0) > s.revision ? events : events.filter { $0.revision > s.revision }
                guard let first = fresh.first, let last = fresh.last else { return ([], []) }
                if onlyIfNext && first.revision != s.revision + 1 { return nil }
                s.revision = last.revision
                var live: [(Int, any WatchSink, [Event])] = []
                var tooSlow: [Int] = []
                for (id, w) in s.watchers {
                    let matching = Self.matching(fresh, w)
                    if matching.isEmpty { continue }
                    if w.held != nil {
                        if w.heldEvents + matching.count > Self.maxHeldEvents {
                            tooSlow.append(id)
                        } else {
                            s.watchers[id]?.held?.append(.events(matching))
                            s.watchers[id]?.heldEvents += matching.count
                        }
                    } else {
                        live.append((id, w.sink, matching))
                    }
                }
                return (live, tooSlow)
            }
            guard let picked else { return (false, []) }
            var dropped = picked.tooSlow
            for (id, sink, matching) in picked.live where !sink.receive(.events(matching)) { dropped.append(id) }
            return (true, dropped)
        }
        for id in outcome.overflowed { drop(id) }
        return outcome.delivered
    }

    /// The changes a watcher sees; the batch itself (no copy) when it sees all of them.
    private static func matching(_ events: [Event], _ w: Watcher) -> [Event] {
        let sees = { (e: Event) in e.revision >= w.startRevision && w.range.contains(e.kv.key) }
        return events.allSatisfy(sees) ? events : events.filter(sees)
    }

    /// Puts a progress marker for the last delivered revision into a watcher's stream, behind
    /// every change already queued for it. Returns `false` if there is no such watcher.
    @discardableResult
    func requestProgress(_ id: Int) -> Bool {
        let result: (found: Bool, overflowed: Bool) = delivery.withLock { _ in
            // Deliveries take `delivery` too, so the revision read here stays the last one
            // delivered until the marker is handed over.
            let target: ((any WatchSink)?, WatchMessage)? = state.withLock { s in
                guard let w = s.watchers[id] else { return nil }
                let marker = WatchMessage.progress(revision: s.revision)
                if w.held != nil {
                    s.watchers[id]?.held?.append(marker)
                    return (nil, marker)
                }
                return (w.sink, marker)
            }
            guard let (sink, marker) = target else { return (false, false) }
            guard let sink else { return (true, false) }
            return (true, !sink.receive(marker))
        }
        if result.overflowed { drop(id) }
        return result.found
    }

    /// Ends every watcher with `error` (or normally when `nil`).
    func closeAll(_ error: (any Error)? = nil) {
        let all = state.withLock { s in
            defer { s.watchers = [:] }
            return s.watchers.values.map(\.sink)
        }
        for sink in all { sink.finish(error) }
    }

    /// Removes a watcher and ends it with `error`, unless something else removed it first.
    func end(_ id: Int, _ error: any Error) {
        let removed = state.withLock { $0.watchers.removeValue(forKey: id) }
        removed?.sink.finish(error)
    }

    /// Removes a watcher that fell behind and ends it with the overflow error.
    private func drop(_ id: Int) {
        end(id, KineError.watcherOverflow)
    }
}
