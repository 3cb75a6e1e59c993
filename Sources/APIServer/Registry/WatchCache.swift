import Logging
import Synchronization

/// One resource's watch cache, as kube-apiserver's cacher: the objects under the resource's
/// key prefix and a window of recent changes, in memory, fed by one store watch. It answers
/// reads that it can answer exactly (at a revision it holds, or once it has caught up with a
/// revision the caller needs) and serves watches from its window and its feed, so a change is
/// handed to the store's watchers once per resource and fanned out here, off the writer's
/// path. What it cannot answer (not filled yet, an older revision than its window), the
/// caller reads from the store.
final class WatchCache: Sendable {
    /// The watch ended because its reader fell too far behind.
    struct TooSlow: Error, CustomStringConvertible {
        var description: String { "the watcher fell behind the watch cache's changes" }
    }

    private struct Watcher {
        let prefix: String
        /// Changes up to this revision are not sent.
        let after: Int64
        let continuation: AsyncThrowingStream<StoreWatchMessage, any Error>.Continuation
    }

    private struct Waiter {
        let id: Int
        let target: Int64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        /// `nil` until filled, and after the feed failed.
        var objects: CachedObjects?
        /// The store watch feeding the cache.
        var feedID: Int?
        var watchers: [Int: Watcher] = [:]
        var waiters: [Waiter] = []
        var nextWaiter = 0
        /// Watchers that asked for a progress marker since the last one.
        var progressWanted: Set<Int> = []
        /// A progress marker was asked of the feed and has not come.
        var progressAsked = false
        var hits = 0
        var misses = 0
    }

    /// The resource's key prefix.
    let prefix: String
    /// Its place among its store's caches, which its watches' IDs carry.
    let number: Int
    private let store: any ObjectStore
    private let limits: WatchCacheLimits
    private let logger: Logger
    private let state = Mutex(State())
    /// Wakes the loop that asks the feed for progress while reads wait.
    private let waiting: AsyncStream<Void>.Continuation
    private let waitingSignal: AsyncStream<Void>
    /// The most messages buffered for one watcher before it is dropped as too slow.
    static let watcherBuffer = 16_384

    init(prefix: String, number: Int, store: any ObjectStore, limits: WatchCacheLimits, logger: Logger) {
        self.prefix = prefix
        self.number = number
        self.store = store
        self.limits = limits
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

    /// One full read, then the store's changes until its watch ends.
    private func follow() async throws {
        let revision = try await store.currentRevision()
        var entries: [StoredEntry] = []
        try await store.forEach(prefix: prefix, revision: revision) { entries.append($0) }
        entries.sort { CachedObjects.precedes($0.key, $1.key) }
        let feed = try await store.watch(prefix: prefix, after: revision)
        defer { store.cancelWatch(feed.id) }
        let limits = self.limits
        state.withLock { s in
            s.objects = CachedObjects(sorted: entries, revision: revision, limits: limits)
            s.feedID = feed.id
            s.progressAsked = false
        }
        entries = []  // the cache's copy is the only one: changes need not copy it
        for try await message in feed.stream {
            let ready: [Waiter] = state.withLock { s in
                guard s.objects != nil else { return [] }
                switch message {
                case .events(let events):
                    s.objects?.apply(events)
                    Self.fanOut(events, to: &s)
                case .progress(let revision):
                    s.objects?.advance(to: revision)
                    s.progressAsked = false
                    let marker = StoreWatchMessage.progress(revision: s.objects?.revision ?? revision)
                    for id in s.progressWanted { _ = s.watchers[id]?.continuation.yield(marker) }
                    s.progressWanted = []
                }
                guard !s.waiters.isEmpty else { return [] }
                let now = s.objects?.revision ?? 0
                let (done, left) = s.waiters.reduce(into: ([Waiter](), [Waiter]())) { $1.target <= now ? $0.0.append($1) : $0.1.append($1) }
                s.waiters = left
                return done
            }
            for waiter in ready { waiter.continuation.resume(returning: true) }
        }
    }

    /// Hands changes to the watchers that see them; drops the ones that cannot keep up.
    private static func fanOut(_ events: [StoreEvent], to s: inout State) {
        var dropped: [Int] = []
        for (id, watcher) in s.watchers {
            let sees = { (event: StoreEvent) in event.revision > watcher.after && CachedObjects.isUnder(event.key, watcher.prefix) }
            let matching = events.allSatisfy(sees) ? events : events.filter(sees)
            if matching.isEmpty { continue }
            switch watcher.continuation.yield(.events(matching)) {
            case .enqueued: break
            case .dropped: dropped.append(id)
            case .terminated: dropped.append(id)
            @unknown default: break
            }
        }
        for id in dropped {
            // Finishing runs the stream's termination handler, which takes the state lock:
            // done on another task.
            if let watcher = s.watchers.removeValue(forKey: id) {
                let continuation = watcher.continuation
                Task { continuation.finish(throwing: TooSlow()) }
            }
            s.progressWanted.remove(id)
        }
    }

    /// Empties the cache: its watchers end (with the feed's error), waiting reads go to the store.
    private func reset(_ error: (any Error)?) {
        let (watchers, waiters) = state.withLock { s in
            defer {
                s.objects = nil
                s.feedID = nil
                s.watchers = [:]
                s.waiters = []
                s.progressWanted = []
                s.progressAsked = false
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
                let (expired, feed): ([Waiter], Int?) = state.withLock { s in
                    let (late, left) = s.waiters.reduce(into: ([Waiter](), [Waiter]())) { $1.deadline <= now ? $0.0.append($1) : $0.1.append($1) }
                    s.waiters = left
                    return (late, left.isEmpty ? nil : s.feedID)
                }
                for waiter in expired { waiter.continuation.resume(returning: false) }
                guard let feed else { break }
                store.requestProgress(feed)
            }
        }
    }

    /// Waits until the cache holds every change up to `target`, up to `patience`; `false` if
    /// it is not filled or did not get there in time.
    private func reach(_ target: Int64, patience: Duration) async -> Bool {
        let filled: Bool? = state.withLock { s in s.objects.map { $0.revision >= target } }
        guard let filled else { return false }
        if filled { return true }
        let deadline = ContinuousClock.now + patience
        return await withCheckedContinuation { continuation in
            enum Outcome { case answered(Bool), waiting(ask: Int?, first: Bool) }
            let outcome: Outcome = state.withLock { s in
                guard let objects = s.objects else { return .answered(false) }
                if objects.revision >= target { return .answered(true) }
                s.nextWaiter += 1
                s.waiters.append(Waiter(id: s.nextWaiter, target: target, deadline: deadline, continuation: continuation))
                let ask = s.progressAsked ? nil : s.feedID
                s.progressAsked = true
                return .waiting(ask: ask, first: s.waiters.count == 1)
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

    private func counted<T>(_ answer: T?) -> T? {
        count(hit: answer != nil)
        return answer
    }

    // MARK: Reads

    /// The object under `key` as of a revision at least `target`: `.some(nil)` when there is
    /// none, `nil` when the cache cannot say.
    func get(_ key: String, atLeast target: Int64, patience: Duration = .seconds(3)) async -> StoredObject?? {
        guard await reach(target, patience: patience) else { return counted(nil) }
        let entry: StoredEntry?? = state.withLock { s in s.objects.map { $0.get(key) } }
        guard let entry else { return counted(nil) }
        guard let entry else { return counted(.some(nil)) }
        guard let object = try? StoredCodec.decode(entry) else { return counted(nil) }
        return counted(.some(object))
    }

    /// A page as of a revision at least `target` (the cache's newest), `nil` when the cache
    /// cannot answer.
    func list(prefix: String, startKey: String?, atLeast target: Int64, limit: Int, counting: Bool,
              patience: Duration = .seconds(3)) async -> ListPage? {
        guard await reach(target, patience: patience) else { return counted(nil) }
        return page(prefix: prefix, startKey: startKey, revision: 0, limit: limit, counting: counting)
    }

    /// A page at exactly `revision`, `nil` when the cache does not hold it.
    func page(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) -> ListPage? {
        counted(state.withLock { s in
            s.objects?.page(prefix: prefix, startKey: startKey, revision: revision, limit: limit, counting: counting)
        })
    }

    // MARK: Watches

    /// A watch of the changes under `prefix` after `revision`, served from the window and the
    /// feed; `nil` when the window does not reach back to it. `id` names it.
    func watch(prefix: String, after revision: Int64, id: Int) -> StoreWatch? {
        let (stream, continuation) = AsyncThrowingStream<StoreWatchMessage, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(Self.watcherBuffer))
        let registered = state.withLock { s -> Bool in
            guard let objects = s.objects, let replay = objects.changes(after: revision, under: prefix) else { return false }
            if !replay.isEmpty { continuation.yield(.events(replay)) }
            s.watchers[id] = Watcher(prefix: prefix, after: revision, continuation: continuation)
            return true
        }
        count(hit: registered)
        guard registered else { return nil }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        return StoreWatch(id: id, stream: stream)
    }

    private func remove(_ id: Int) {
        _ = state.withLock { s in
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
            if s.progressAsked { return (true, nil) }
            s.progressAsked = true
            return (true, s.feedID)
        }
        if let feed { store.requestProgress(feed) }
        return found
    }

    func cancel(_ id: Int) {
        let watcher = state.withLock { s in
            s.progressWanted.remove(id)
            return s.watchers.removeValue(forKey: id)
        }
        watcher?.continuation.finish()
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
    }

    var figures: Figures {
        state.withLock { s in
            Figures(filled: s.objects != nil, objects: s.objects?.count ?? 0, objectBytes: s.objects?.objectBytes ?? 0,
                    events: s.objects?.window.count ?? 0, windowBytes: s.objects?.windowBytes ?? 0,
                    watchers: s.watchers.count, hits: s.hits, misses: s.misses)
        }
    }
}
