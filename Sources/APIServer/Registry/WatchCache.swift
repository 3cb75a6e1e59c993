import Logging
import Synchronization

/// One resource's watch cache, as kube-apiserver's cacher: the objects under the resource's
/// key prefix and a window of recent changes, in memory, fed by one store watch.
///
/// The store hands the feed's changes over synchronously (``StoreWatchSink``): they are in
/// the cache when the writer's call returns, and a progress marker asked for by a read is in
/// before the read goes on, so a consistent read of a store that is its database's only
/// writer waits for nothing. Handing the changes on to the cache's watchers is the cache's
/// own task's work, off the writer's path. What the cache cannot answer (not filled yet, an
/// older revision than its window), the caller reads from the store.
final class WatchCache: Sendable {
    /// The watch ended because its reader fell too far behind.
    struct TooSlow: Error, CustomStringConvertible {
        var description: String { "the watcher fell behind the watch cache's changes" }
    }

    private struct Watcher {
        let prefix: String
        /// Changes up to this revision are not sent.
        let after: Int64
        /// The changes the reader wants (nil: all).
        let keep: StoreEventFilter?
        let continuation: AsyncThrowingStream<StoreWatchMessage, any Error>.Continuation

        /// The changes of `events` this watcher is sent.
        func matching(_ events: [StoreEvent]) -> [StoreEvent] {
            let sees = { (event: StoreEvent) in
                event.revision > after && CachedObjects.isUnder(event.key, prefix) && (keep?(event) ?? true)
            }
            return events.allSatisfy(sees) ? events : events.filter(sees)
        }
    }

    private struct Waiter {
        let target: Int64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        /// `nil` until filled, and after the feed failed.
        var objects: CachedObjects?
        /// The store watch feeding the cache.
        var feedID: Int?
        /// Which fill the feed belongs to: a sink of an earlier one is ignored.
        var generation = 0
        /// Every change up to this revision has been handed to the watchers.
        var handedOn: Int64 = 0
        var watchers: [Int: Watcher] = [:]
        var waiters: [Waiter] = []
        /// Watchers that asked for a progress marker since the last one.
        var progressWanted: Set<Int> = []
        var hits = 0
        var misses = 0
        /// Changes handed to watchers (one per watcher that was sent it).
        var handedOut = 0
    }

    /// The resource's key prefix.
    let prefix: String
    /// Its place among its store's caches, which its watches' IDs carry.
    let number: Int
    private let store: any ObjectStore
    private let limits: WatchCacheLimits
    private let budget: WindowBudget
    private let logger: Logger
    private let state = Mutex(State())
    /// Wakes the loop that asks the feed for progress while reads wait.
    private let waiting: AsyncStream<Void>.Continuation
    private let waitingSignal: AsyncStream<Void>
    /// The most messages buffered for one watcher before it is dropped as too slow.
    static let watcherBuffer = 16_384

    init(prefix: String, number: Int, store: any ObjectStore, limits: WatchCacheLimits, budget: WindowBudget, logger: Logger) {
        self.prefix = prefix
        self.number = number
        self.store = store
        self.limits = limits
        self.budget = budget
        self.logger = logger
        (waitingSignal, waiting) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Whether the cache holds the objects.
    var isFilled: Bool { state.withLock { $0.objects != nil } }

    // MARK: Feeding

    /// Fills the cache and follows the store, filling it again after a failure, until cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.askWhileWaiting() }
            var delay = Duration.milliseconds(100)
            while !Task.isCancelled {
                do {
                    try await follow()
                    reset(nil)
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("watch cache of \(prefix) restarts: \(error)")
                    reset(error)
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
            reset(nil)
            group.cancelAll()
        }
    }

    /// One full read, then the store's changes until its watch ends: the store's sink keeps
    /// the objects current, this task hands the changes on to the watchers.
    private func follow() async throws {
        let revision = try await store.currentRevision()
        var entries: [StoredEntry] = []
        try await store.forEach(prefix: prefix, revision: revision) { entries.append($0) }
        entries.sort { CachedObjects.precedes($0.key, $1.key) }
        let (queue, input) = AsyncThrowingStream<StoreWatchMessage, any Error>.makeStream(bufferingPolicy: .bufferingOldest(Self.feedBuffer))
        let limits = self.limits, budget = self.budget
        // Filled before the watch starts: a store may hand over changes while it starts it.
        let generation = state.withLock { s in
            s.generation += 1
            s.objects?.release()
            s.objects = CachedObjects(sorted: entries, revision: revision, limits: limits, budget: budget)
            s.handedOn = revision
            s.feedID = nil
            return s.generation
        }
        entries = []  // the cache's copy is the only one: changes need not copy it
        let feedID = try await store.watch(prefix: prefix, after: revision, sink: Feed(cache: self, generation: generation, queue: input))
        defer { store.cancelWatch(feedID) }
        // Markers asked for while the watch was starting are asked for now.
        let asked = state.withLock { s in
            guard s.generation == generation else { return false }
            s.feedID = feedID
            return !s.progressWanted.isEmpty || !s.waiters.isEmpty
        }
        if asked { store.requestProgress(feedID) }
        for try await message in queue { handOn(message) }
    }

    /// The feed's sink: changes go into the objects in the writer's call, and queue for the
    /// cache's task to hand on.
    private struct Feed: StoreWatchSink {
        let cache: WatchCache
        let generation: Int
        let queue: AsyncThrowingStream<StoreWatchMessage, any Error>.Continuation

        func receive(_ message: StoreWatchMessage) -> Bool {
            guard cache.take(message, generation: generation) else { return true }
            if case .enqueued = queue.yield(message) { return true }
            // The watchers' task fell too far behind: the cache starts again.
            queue.finish(throwing: TooSlow())
            return false
        }

        func finish(_ error: (any Error)?) { queue.finish(throwing: error) }
    }

    /// The most changes queued for the watchers before the cache starts again.
    static let feedBuffer = 65_536

    /// Puts a change (or a progress marker) into the objects and lets go of the reads it
    /// satisfies; `false` if it belongs to an earlier fill.
    private func take(_ message: StoreWatchMessage, generation: Int) -> Bool {
        let ready: [Waiter]? = state.withLock { s in
            guard s.generation == generation, s.objects != nil else { return nil }
            switch message {
            case .events(let events): s.objects?.apply(events)
            case .progress(let revision): s.objects?.advance(to: revision)
            }
            let now = s.objects?.revision ?? 0
            return Self.release(&s.waiters) { $0.target <= now }
        }
        guard let ready else { return false }
        for waiter in ready { waiter.continuation.resume(returning: true) }
        return true
    }

    /// Takes the waiters `done` picks out of `waiters`, for resuming outside the lock.
    private static func release(_ waiters: inout [Waiter], where done: (Waiter) -> Bool) -> [Waiter] {
        guard !waiters.isEmpty else { return [] }
        let released = waiters.filter(done)
        if !released.isEmpty { waiters.removeAll(where: done) }
        return released
    }

    /// Hands a change (or a progress marker) on to the watchers. Which changes each watcher
    /// wants is decided outside the lock (a watcher's filter may parse objects), so the
    /// writers' `take` never waits for it: a watcher registered meanwhile starts after
    /// `handedOn` and replays these changes from the window.
    private func handOn(_ message: StoreWatchMessage) {
        switch message {
        case .events(let events):
            let watchers: [(Int, Watcher)] = state.withLock { s in
                guard s.objects != nil else { return [] }
                s.handedOn = max(s.handedOn, events.last?.revision ?? 0)
                return Array(s.watchers)
            }
            var dropped: [Int] = []
            var handedOut = 0
            for (id, watcher) in watchers {
                let matching = watcher.matching(events)
                if matching.isEmpty { continue }
                switch watcher.continuation.yield(.events(matching)) {
                case .enqueued: handedOut += matching.count
                case .dropped: dropped.append(id)
                case .terminated: break
                @unknown default: break
                }
            }
            let slow = state.withLock { s in
                s.handedOut += handedOut
                return dropped.compactMap { id in
                    s.progressWanted.remove(id)
                    return s.watchers.removeValue(forKey: id)?.continuation
                }
            }
            // Ended outside the lock: ending one runs its termination handler, which takes it.
            for continuation in slow { continuation.finish(throwing: TooSlow()) }
        case .progress(let revision):
            state.withLock { s in
                guard s.objects != nil else { return }
                s.handedOn = max(s.handedOn, revision)
                let marker = StoreWatchMessage.progress(revision: s.handedOn)
                for id in s.progressWanted { _ = s.watchers[id]?.continuation.yield(marker) }
                s.progressWanted = []
            }
        }
    }

    /// Empties the cache: its watchers end (with the feed's error), waiting reads go to the store.
    private func reset(_ error: (any Error)?) {
        let (watchers, waiters) = state.withLock { s in
            defer {
                s.generation += 1
                s.objects?.release()
                s.objects = nil
                s.feedID = nil
                s.watchers = [:]
                s.waiters = []
                s.progressWanted = []
            }
            return (Array(s.watchers.values), s.waiters)
        }
        for watcher in watchers { watcher.continuation.finish(throwing: error) }
        for waiter in waiters { waiter.continuation.resume(returning: false) }
    }

    /// While reads wait for a revision, asks the feed for progress every 2 ms and lets go of
    /// the reads whose time is up.
    private func askWhileWaiting() async {
        for await _ in waitingSignal {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(2))
                let now = ContinuousClock.now
                let (expired, waiting, feed): ([Waiter], Bool, Int?) = state.withLock { s in
                    let late = Self.release(&s.waiters) { $0.deadline <= now }
                    return (late, !s.waiters.isEmpty, s.feedID)
                }
                for waiter in expired { waiter.continuation.resume(returning: false) }
                guard waiting else { break }
                // (No feed yet: the cache was filled and its watch is starting.)
                if let feed { store.requestProgress(feed) }
            }
        }
    }

    /// Waits until the cache holds every change up to `target`, up to `patience`; `false` if
    /// it is not filled or did not get there in time.
    private func reach(_ target: Int64, patience: Duration) async -> Bool {
        enum Now { case unfilled, reached, behind(feed: Int?) }
        let now: Now = state.withLock { s in
            guard let objects = s.objects else { return .unfilled }
            return objects.revision >= target ? .reached : .behind(feed: s.feedID)
        }
        switch now {
        case .unfilled: return false
        case .reached: return true
        case .behind(let feed):
            // A store that delivers synchronously has handed the marker over on return.
            if let feed { store.requestProgress(feed) }
        }
        let deadline = ContinuousClock.now + patience
        return await withCheckedContinuation { continuation in
            enum Outcome { case answered(Bool), waiting(ask: Int?, first: Bool) }
            let outcome: Outcome = state.withLock { s in
                guard let objects = s.objects else { return .answered(false) }
                if objects.revision >= target { return .answered(true) }
                s.waiters.append(Waiter(target: target, deadline: deadline, continuation: continuation))
                return .waiting(ask: s.feedID, first: s.waiters.count == 1)
            }
            switch outcome {
            case .answered(let reached): continuation.resume(returning: reached)
            case .waiting(let ask, let first):
                if let ask { store.requestProgress(ask) }
                if first { waiting.yield() }
            }
        }
    }

    private func count(hit: Bool) {
        state.withLock { s in
            if hit { s.hits += 1 } else { s.misses += 1 }
        }
    }

    /// Reads the objects and counts the read as answered (or not) under the same lock.
    private func read<T: Sendable>(_ body: (CachedObjects) -> T?) -> T? {
        state.withLock { s in
            let answer = s.objects.flatMap(body)
            if answer == nil { s.misses += 1 } else { s.hits += 1 }
            return answer
        }
    }

    // MARK: Reads

    /// The object under `key` as of a revision at least `target`: `.some(nil)` when there is
    /// none, `nil` when the cache cannot say.
    func get(_ key: String, atLeast target: Int64, patience: Duration = .seconds(3)) async -> StoredObject?? {
        guard await reach(target, patience: patience) else {
            count(hit: false)
            return nil
        }
        guard let entry: StoredEntry? = read({ .some($0.get(key)) }) else { return nil }
        guard let entry else { return .some(nil) }
        // (An entry that does not decode is read from the store, which says why.)
        guard let object = try? StoredCodec.decode(entry) else { return nil }
        return .some(object)
    }

    /// A page as of a revision at least `target` (the cache's newest), `nil` when the cache
    /// cannot answer.
    func list(prefix: String, startKey: String?, atLeast target: Int64, limit: Int, counting: Bool,
              patience: Duration = .seconds(3)) async -> ListPage? {
        guard await reach(target, patience: patience) else {
            count(hit: false)
            return nil
        }
        return page(prefix: prefix, startKey: startKey, revision: 0, limit: limit, counting: counting)
    }

    /// A page at exactly `revision`, `nil` when the cache does not hold it.
    func page(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) -> ListPage? {
        read { $0.page(prefix: prefix, startKey: startKey, revision: revision, limit: limit, counting: counting) }
    }

    // MARK: Watches

    /// A watch of the changes under `prefix` after `revision`, served from the window and the
    /// feed; `nil` when the window does not reach back to it. `id` names it.
    func watch(prefix: String, after revision: Int64, id: Int, keep: StoreEventFilter? = nil) -> StoreWatch? {
        let (stream, continuation) = AsyncThrowingStream<StoreWatchMessage, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(Self.watcherBuffer))
        let registered = state.withLock { s -> Bool in
            guard let objects = s.objects else { return false }
            // What the cache's task has handed on comes from the window; the rest from the task.
            let watcher = Watcher(prefix: prefix, after: max(revision, s.handedOn), keep: keep, continuation: continuation)
            if revision < s.handedOn {
                guard let replay = objects.changes(after: revision, under: prefix) else { return false }
                // (Not filtered: `keep` may parse, and this holds the writers' lock. The
                // reader checks each change again.)
                let handed = replay.filter { $0.revision <= s.handedOn }
                if !handed.isEmpty { continuation.yield(.events(handed)) }
            }
            s.watchers[id] = watcher
            return true
        }
        count(hit: registered)
        guard registered else { return nil }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return StoreWatch(id: id, stream: stream)
    }

    @discardableResult
    private func remove(_ id: Int) -> Watcher? {
        state.withLock { s in
            s.progressWanted.remove(id)
            return s.watchers.removeValue(forKey: id)
        }
    }

    /// Asks for a progress marker for watcher `id`: it comes once the feed's does, after
    /// every change the store had delivered when asked. `false` if the watch has ended.
    func requestProgress(_ id: Int) -> Bool {
        let (found, feed): (Bool, Int?) = state.withLock { s in
            guard s.watchers[id] != nil else { return (false, nil) }
            s.progressWanted.insert(id)
            return (true, s.feedID)
        }
        if let feed { store.requestProgress(feed) }
        return found
    }

    func cancel(_ id: Int) {
        remove(id)?.continuation.finish()
    }

    // MARK: Metrics

    struct Figures {
        var filled: Bool
        var objects: Int
        var objectBytes: Int
        var events: Int
        var windowBytes: Int
        var watchers: Int
        var hits: Int
        var misses: Int
        /// Changes handed to watchers, counted once per watcher sent each.
        var handedOut: Int
    }

    var figures: Figures {
        state.withLock { s in
            Figures(filled: s.objects != nil, objects: s.objects?.count ?? 0, objectBytes: s.objects?.objectBytes ?? 0,
                    events: s.objects?.window.count ?? 0, windowBytes: s.objects?.windowBytes ?? 0,
                    watchers: s.watchers.count, hits: s.hits, misses: s.misses, handedOut: s.handedOut)
        }
    }
}
