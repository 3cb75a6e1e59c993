import Logging
import Synchronization

/// An ``ObjectStore`` with a watch cache per resource in front of the one it wraps, as
/// kube-apiserver's cacher sits in front of etcd: reads and watches of a resource are
/// answered from its ``WatchCache`` when it can answer them exactly, writes go to the store.
///
/// - A consistent read (revision 0) asks the store for ``ObjectStore/consistentRevision()``
///   (no database query where this process is the only writer) and is answered once the cache
///   has caught up to it; as kube-apiserver 1.31+ serves consistent lists from its cache.
/// - A read at an exact revision is answered when the cache's window reaches back to it (the
///   later pages of a paged list).
/// - A read not older than a revision is answered at the cache's newest.
/// - A watch is served from the window and the cache's one store watch, when the window
///   reaches back to its start; older starts watch the store itself.
///
/// A resource's cache is made on its first read or watch and filled by ``run()``; until it
/// is filled, and whenever it cannot answer, the store answers.
public final class CachingObjectStore: ObjectStore {
    let base: any ObjectStore
    private let limits: WatchCacheLimits
    /// What every cache's window holds, against ``WatchCacheLimits/totalWindowBytes``.
    private let budget: WindowBudget
    private let logger: Logger
    private struct Caches {
        var byPrefix: [String: WatchCache] = [:]
        /// By ``WatchCache/number``.
        var byNumber: [WatchCache] = []
    }
    private let caches = Mutex(Caches())
    private let nextWatchID = Atomic<Int>(0)
    private let made: AsyncStream<WatchCache>
    private let making: AsyncStream<WatchCache>.Continuation
    /// Watch IDs of the caches start here, far above any the store hands out; a cache's
    /// number is in bits 32 and up, so the ID tells which cache serves the watch.
    static let firstWatchID = 1 << 48
    static let serialMask = (1 << 32) - 1
    /// The most caches: one per resource.
    static let maxCaches = 1 << 15
    /// How long a read waits for its resource's cache to catch up before the store answers it.
    static let patience = Duration.seconds(3)

    public init(_ base: any ObjectStore, limits: WatchCacheLimits = WatchCacheLimits(), logger: Logger) {
        self.base = base
        self.limits = limits
        budget = WindowBudget(limit: limits.totalWindowBytes)
        self.logger = logger
        (made, making) = AsyncStream.makeStream()
    }

    /// Fills and follows every cache made, until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await cache in made {
                group.addTask { await cache.run() }
            }
        }
    }

    /// The resource prefix of a key or key prefix, `/registry/GROUP/RESOURCE/`, if it has one.
    static func resourcePrefix(of key: String) -> String? {
        guard key.hasPrefix(RegistryKey.root) else { return nil }
        let rest = key.utf8.dropFirst(RegistryKey.root.utf8.count)
        guard let groupEnd = rest.firstIndex(of: UInt8(ascii: "/")), groupEnd > rest.startIndex else { return nil }
        let afterGroup = rest[rest.index(after: groupEnd)...]
        guard let resourceEnd = afterGroup.firstIndex(of: UInt8(ascii: "/")), resourceEnd > afterGroup.startIndex else { return nil }
        return String(key.utf8[..<key.utf8.index(after: resourceEnd)])
    }

    /// The cache of the resource `key` belongs to, made (and handed to ``run()``) if new.
    private func cache(for key: String) -> WatchCache? {
        guard let prefix = Self.resourcePrefix(of: key) else { return nil }
        let (cache, new) = caches.withLock { caches -> (WatchCache?, Bool) in
            if let cache = caches.byPrefix[prefix] { return (cache, false) }
            guard caches.byNumber.count < Self.maxCaches else { return (nil, false) }
            let cache = WatchCache(prefix: prefix, number: caches.byNumber.count, store: base, limits: limits, budget: budget, logger: logger)
            caches.byPrefix[prefix] = cache
            caches.byNumber.append(cache)
            return (cache, true)
        }
        if new, let cache { making.yield(cache) }
        return cache
    }

    /// Makes the cache of `key`'s resource, and waits (up to `limit`) until it is filled.
    func filled(_ key: String, within limit: Duration = .seconds(10)) async -> Bool {
        guard let cache = cache(for: key) else { return false }
        let deadline = ContinuousClock.now + limit
        while !cache.isFilled {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// The bytes every cache's window holds together (tests).
    var windowBytesHeld: Int { budget.total }

    /// The figures of `key`'s resource's cache, if it has one.
    func figures(_ key: String) -> WatchCache.Figures? {
        guard let prefix = Self.resourcePrefix(of: key) else { return nil }
        return caches.withLock { $0.byPrefix[prefix] }?.figures
    }

    // MARK: Reads

    public func get(_ key: String, revision: Int64) async throws -> StoredObject? {
        if revision == 0, let cache = cache(for: key), cache.isFilled {
            let target = try await base.consistentRevision()
            if let answer = await cache.get(key, atLeast: target, patience: Self.patience) { return answer }
        }
        return try await base.get(key, revision: revision)
    }

    public func list(prefix: String, startKey: String?, revision: Int64, limit: Int, counting: Bool) async throws -> ListPage {
        if let cache = cache(for: prefix), cache.isFilled {
            if revision > 0 {
                if let page = cache.page(prefix: prefix, startKey: startKey, revision: revision, limit: limit, counting: counting) {
                    return page
                }
            } else {
                let target = try await base.consistentRevision()
                if let page = await cache.list(prefix: prefix, startKey: startKey, atLeast: target, limit: limit, counting: counting,
                                               patience: Self.patience) {
                    return page
                }
            }
        }
        return try await base.list(prefix: prefix, startKey: startKey, revision: revision, limit: limit, counting: counting)
    }

    public func list(prefix: String, startKey: String?, notOlderThan minimumRevision: Int64, limit: Int, counting: Bool) async throws -> ListPage {
        if let cache = cache(for: prefix), cache.isFilled,
           let page = await cache.list(prefix: prefix, startKey: startKey, atLeast: minimumRevision, limit: limit, counting: counting,
                                       patience: Self.patience) {
            return page
        }
        return try await base.list(prefix: prefix, startKey: startKey, revision: 0, limit: limit, counting: counting)
    }

    // MARK: Watches

    public func watch(prefix: String, after revision: Int64) async throws -> StoreWatch {
        try await watch(prefix: prefix, after: revision, filter: nil)
    }

    /// Served from the cache, the changes `keep` refuses are left out before the watcher is
    /// woken; from the store, every change comes.
    public func watch(prefix: String, after revision: Int64, keep: @escaping StoreEventFilter) async throws -> StoreWatch {
        try await watch(prefix: prefix, after: revision, filter: keep)
    }

    private func watch(prefix: String, after revision: Int64, filter: StoreEventFilter?) async throws -> StoreWatch {
        if let cache = cache(for: prefix), cache.isFilled, revision >= 0 {
            // The store's compaction applies to the window too, as to etcd's history.
            let compacted = try await base.compactRevision()
            if revision < compacted - 1 { throw ObjectStoreError.compacted(compactRevision: compacted, requested: revision + 1) }
            let serial = nextWatchID.wrappingAdd(1, ordering: .relaxed).oldValue & Self.serialMask
            if let watch = cache.watch(prefix: prefix, after: revision, id: Self.firstWatchID + cache.number << 32 + serial, keep: filter) {
                return watch
            }
        }
        return try await base.watch(prefix: prefix, after: revision)
    }

    /// A watch whose messages must arrive in the writer's call: the store's own.
    public func watch(prefix: String, after revision: Int64, sink: some StoreWatchSink) async throws -> Int {
        try await base.watch(prefix: prefix, after: revision, sink: sink)
    }

    @discardableResult
    public func requestProgress(_ watchID: Int) -> Bool {
        guard watchID >= Self.firstWatchID else { return base.requestProgress(watchID) }
        guard let cache = servingCache(watchID) else { return false }
        return cache.requestProgress(watchID)
    }

    public func cancelWatch(_ watchID: Int) {
        guard watchID >= Self.firstWatchID else { return base.cancelWatch(watchID) }
        servingCache(watchID)?.cancel(watchID)
    }

    /// The cache a watch ID of a cache's names.
    private func servingCache(_ watchID: Int) -> WatchCache? {
        let number = (watchID - Self.firstWatchID) >> 32
        return caches.withLock { number < $0.byNumber.count ? $0.byNumber[number] : nil }
    }

    // MARK: Writes and revisions go to the store

    public func create(_ key: String, _ object: JSON, alongside writes: [ConditionalWrite]) async throws -> CreateOutcome {
        try await base.create(key, object, alongside: writes)
    }

    public func update(_ key: String, _ object: JSON, expectedRevision: Int64) async throws -> WriteOutcome {
        try await base.update(key, object, expectedRevision: expectedRevision)
    }

    public func delete(_ key: String, expectedRevision: Int64) async throws -> WriteOutcome {
        try await base.delete(key, expectedRevision: expectedRevision)
    }

    public func currentRevision() async throws -> Int64 { try await base.currentRevision() }
    public func consistentRevision() async throws -> Int64 { try await base.consistentRevision() }
    public func compactRevision() async throws -> Int64 { try await base.compactRevision() }

    // MARK: Metrics

    /// The caches' figures in Prometheus' text format: objects, bytes, window, watchers,
    /// and reads answered or passed to the store.
    public func renderMetrics() -> String {
        let all = caches.withLock { $0.byPrefix }.sorted { $0.key < $1.key }.map { ($0.key, $0.value.figures) }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (WatchCache.Figures) -> Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (prefix, figures) in all {
                let resource = prefix.dropFirst(RegistryKey.root.count).dropLast()
                out += "\(name){resource=\"\(resource)\"} \(value(figures))\n"
            }
        }
        family("skiff_watch_cache_filled", "gauge", "Whether the resource's watch cache holds its objects.") { $0.filled ? 1 : 0 }
        family("skiff_watch_cache_objects", "gauge", "Objects in the resource's watch cache.") { $0.objects }
        family("skiff_watch_cache_object_bytes", "gauge", "Bytes of the objects in the resource's watch cache.") { $0.objectBytes }
        family("skiff_watch_cache_window_events", "gauge", "Recent changes kept in the resource's watch cache.") { $0.events }
        family("skiff_watch_cache_window_bytes", "gauge", "Bytes of the recent changes kept in the resource's watch cache.") { $0.windowBytes }
        family("skiff_watch_cache_watchers", "gauge", "Watches served from the resource's watch cache.") { $0.watchers }
        family("skiff_watch_cache_reads_total", "counter", "Reads and watches the resource's watch cache answered.") { $0.hits }
        family("skiff_watch_cache_misses_total", "counter", "Reads and watches the resource's watch cache passed to the store.") { $0.misses }
        family("skiff_watch_cache_events_sent_total", "counter", "Changes the resource's watch cache handed to its watchers, once per watcher.") { $0.handedOut }
        let total = all.reduce(0) { $0 + $1.1.objectBytes + $1.1.windowBytes }
        out += "# HELP skiff_watch_cache_bytes Bytes held by all watch caches.\n# TYPE skiff_watch_cache_bytes gauge\nskiff_watch_cache_bytes \(total)\n"
        out += "# HELP skiff_watch_cache_window_limit_bytes The most bytes the windows of recent changes of all resources hold together.\n"
            + "# TYPE skiff_watch_cache_window_limit_bytes gauge\nskiff_watch_cache_window_limit_bytes \(budget.limit)\n"
        return out
    }
}
