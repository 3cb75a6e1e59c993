import Foundation
import Logging
import Storage
import Synchronization

/// The etcd data model on a SQL database: a revisioned key-value log with ranges, guarded
/// writes, compaction, leases and watches.
///
/// Writes go through a ``CommitMode`` strategy (group commit by default). Watches are fed
/// from the committer directly, so a change reaches watchers as soon as it is committed.
/// Background loops expire leases and compact the log; ``close()`` stops them.
public final class KineStore: Sendable {
    /// The database underneath.
    public let database: any SQLDatabase
    public let options: KineOptions

    private let reader: KineReader
    private let committer: any CommitStrategy
    /// Write requests waiting for a transaction.
    var queuedWrites: Int { committer.queued }
    private let hub: WatchHub
    private let feed: WatchFeed
    private let leases: LeaseManager
    private let compactor: Compactor
    private let logger: Logger
    private let background = Mutex<Task<Void, Never>?>(nil)
    /// When the poll for other members' changes last reached the database.
    private let databaseReached = LastContact()

    private final class LastContact: Sendable {
        private let instant = Mutex(ContinuousClock.now)
        func now() { instant.withLock { $0 = .now } }
        func within(_ window: Duration) -> Bool { instant.withLock { ContinuousClock.now - $0 < window } }
    }

    /// Opens the log on `database`, creating its tables if needed, and starts the
    /// background loops.
    public init(database: any SQLDatabase, options: KineOptions = KineOptions(), logger: Logger = Logger(label: "skiff.kine")) async throws {
        self.database = database
        self.options = options
        self.logger = logger
        let versions = try await database.write { c in try await KineSchema.prepare(c) }
        if versions.from != versions.to {
            logger.info("the log's schema was migrated", metadata: ["from": "\(versions.from)", "to": "\(versions.to)"])
        }
        reader = KineReader(db: database)
        hub = WatchHub(revision: try await reader.currentRevision())
        feed = WatchFeed(hub: hub, reader: reader, signal: options.peerSignal, logger: logger)
        committer = options.commitMode.makeStrategy(executor: BatchExecutor(db: database), feed: feed)
        leases = LeaseManager(db: database, committer: committer)
        compactor = Compactor(db: database)
        if options.peerPollInterval == nil { try await leases.refreshAll() }
        startBackground()
    }

    /// Opens (creating if needed) the embedded SQLite log `kine.db` in `directory`.
    public static func open(directory: String, synchronous: SQLiteConfiguration.Synchronous = .full,
                            options: KineOptions = KineOptions(), logger: Logger = Logger(label: "skiff.kine")) async throws -> KineStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var configuration = SQLiteConfiguration(path: directory + "/kine.db")
        configuration.synchronous = synchronous
        let db = try SQLiteDatabase(configuration)
        do {
            return try await KineStore(database: db, options: options, logger: logger)
        } catch {
            await db.close()
            throw error
        }
    }

    /// Stops the background loops, ends every watch, and closes the database.
    public func close() async {
        committer.close()
        feed.finish()
        let task = background.withLock { t in defer { t = nil }; return t }
        task?.cancel()
        await task?.value
        hub.closeAll()
        await database.close()
    }

    // MARK: Reads

    /// The revision of the newest change.
    public func currentRevision() async throws -> Int64 { try await reader.currentRevision() }

    /// The oldest revision that can still be read or watched from.
    public func compactRevision() async throws -> Int64 { try await reader.compactRevision() }

    /// The key's value at `revision` (0 = now), with the current revision.
    public func get(_ key: [UInt8], revision: Int64 = 0) async throws -> (revision: Int64, kv: KeyValue?) {
        try await reader.get(key, revision: revision)
    }

    /// The live keys of `range` at `revision` (0 = now), in key order, at most `limit` (0 = all).
    public func list(_ range: KeyRange, revision: Int64 = 0, limit: Int = 0, withCount: Bool = false) async throws -> ListResult {
        try await reader.list(range, revision: revision, limit: limit, withCount: withCount)
    }

    /// How many live keys `range` holds at `revision` (0 = now).
    public func count(_ range: KeyRange, revision: Int64 = 0) async throws -> (revision: Int64, count: Int64) {
        try await reader.count(range, revision: revision)
    }

    // MARK: Writes

    /// Creates a key; fails with ``KineError/keyExists(current:)`` if it exists.
    @discardableResult
    public func create(_ key: [UInt8], value: [UInt8], lease: Int64 = 0) async throws -> KeyValue {
        try await submit(key, .put(value: value, lease: lease), .absent).kv!
    }

    /// Replaces a key's value if its mod revision is `expectedModRevision`; fails with
    /// ``KineError/conflict(current:)`` if not, ``KineError/notFound(key:)`` if it is gone.
    @discardableResult
    public func update(_ key: [UInt8], value: [UInt8], expectedModRevision: Int64, lease: Int64 = 0) async throws -> KeyValue {
        try await submit(key, .put(value: value, lease: lease), .modRevision(expectedModRevision)).kv!
    }

    /// Sets a key's value whatever it was; returns the new and the previous value.
    @discardableResult
    public func put(_ key: [UInt8], value: [UInt8], lease: Int64 = 0) async throws -> (kv: KeyValue, previous: KeyValue?) {
        let result = try await submit(key, .put(value: value, lease: lease), .none)
        return (result.kv!, result.previous)
    }

    /// ``put(_:value:lease:)`` with a completion instead of a suspension, for callers on an
    /// event loop: no task per write. `completion` runs on the committer's thread.
    public func put(_ key: [UInt8], value: [UInt8], lease: Int64 = 0,
                    completion: @escaping @Sendable (Result<(kv: KeyValue, previous: KeyValue?), any Error>) -> Void) {
        let request: WriteRequest
        do { request = try Self.operation(key, .put(value: value, lease: lease), .none) } catch { return completion(.failure(error)) }
        committer.enqueue(request) { result in completion(result.map { ($0.kv!, $0.previous) }) }
    }

    /// Deletes a key, if `expectedModRevision` is given only when it matches. Returns the
    /// deletion's revision and the deleted value.
    @discardableResult
    public func delete(_ key: [UInt8], expectedModRevision: Int64? = nil) async throws -> (revision: Int64, deleted: KeyValue) {
        let result = try await submit(key, .delete, expectedModRevision.map { .modRevision($0) } ?? .none)
        return (result.revision, result.previous!)
    }

    private func submit(_ key: [UInt8], _ action: WriteOperation.Action, _ precondition: WriteOperation.Precondition) async throws -> WriteResult {
        try await committer.submit(try Self.operation(key, action, precondition))
    }

    /// A one-key write request; the key must not be empty.
    private static func operation(_ key: [UInt8], _ action: WriteOperation.Action, _ precondition: WriteOperation.Precondition) throws -> WriteRequest {
        guard !key.isEmpty else { throw KineError.invalidArgument("key must not be empty") }
        return .operation(WriteOperation(key: key, action: action, precondition: precondition))
    }

    /// Runs an etcd transaction atomically; every change it makes gets one revision.
    public func txn(_ txn: Txn) async throws -> TxnResult {
        try await committer.submit(.txn(txn)).txn!
    }

    /// ``txn(_:)`` with a completion instead of a suspension (see ``put(_:value:lease:completion:)``).
    public func txn(_ txn: Txn, completion: @escaping @Sendable (Result<TxnResult, any Error>) -> Void) {
        committer.enqueue(.txn(txn)) { result in completion(result.map { $0.txn! }) }
    }

    /// Deletes every live key of `range` (etcd's DeleteRange) and returns them, with the
    /// revision after the last deletion.
    ///
    /// On a database that bounds a request's transaction (``TransactionSize/requestChanges``,
    /// a replicated one) a range of more keys than that goes in steps, in key order, each
    /// step one transaction: each step is all or nothing, and a reader between two steps
    /// sees the range partly deleted. A failed step leaves the steps before it done;
    /// deleting the range again deletes the rest. Inside a ``Txn`` a range deletion is
    /// always one transaction.
    public func deleteRange(_ range: KeyRange) async throws -> TxnResult {
        guard let step = database.preferredTransactionSize?.requestChanges, step > 0, range.end != .single else {
            return try await txn(Txn(success: [.deleteRange(range)]))
        }
        var deleted: [KeyValue] = []
        var start = range.start
        while true {
            // The first key past this step's (read from the index, values untouched): the
            // step ends before it.
            let boundary = try await reader.liveKey(in: KeyRange(start: start, end: range.end), offset: step)
            let piece = boundary.map { KeyRange(start: start, end: .before($0)) } ?? KeyRange(start: start, end: range.end)
            let result = try await txn(Txn(success: [.deleteRange(piece)]))
            if case .deleteRange(let keys)? = result.results.first { deleted += keys }
            guard let boundary else {
                return TxnResult(succeeded: true, results: [.deleteRange(deleted: deleted)], revision: result.revision)
            }
            start = boundary
        }
    }

    /// A range read with etcd's options, and the current revision.
    public func range(_ query: RangeQuery) async throws -> (revision: Int64, result: RangeResult) {
        try await reader.range(query)
    }

    // MARK: Compaction

    /// Removes history up to `revision`; reads and watches below it then fail with
    /// ``KineError/compacted(compactRevision:requested:)``. Returns the rows removed.
    @discardableResult
    public func compact(to revision: Int64) async throws -> Int64 {
        try await compactor.compact(to: revision)
    }

    /// One round of automatic compaction: compacts to the revision the
    /// ``KineOptions/compactionPolicy`` gives and reclaims free pages. Returns the rows removed.
    @discardableResult
    public func compactNow() async throws -> Int64 {
        let current = try await reader.currentRevision()
        let target = options.compactionPolicy.target(current: current)
        var removed: Int64 = 0
        if target > (try await reader.compactRevision()) {
            removed = try await compactor.compact(to: target)
        }
        try await database.reclaimSpace()
        return removed
    }

    // MARK: Leases

    /// Grants a lease of `ttl` seconds, with the ID asked for or (0) a random one.
    public func grantLease(ttl: Int64, id: Int64 = 0) async throws -> Lease {
        try await leases.grant(ttl: ttl, id: id)
    }

    /// Renews a lease for its full TTL.
    public func keepAlive(lease id: Int64) async throws -> Lease {
        try await leases.keepAlive(id)
    }

    /// Revokes a lease, deleting its keys (one revision each). Returns the revision after.
    @discardableResult
    public func revokeLease(_ id: Int64) async throws -> Int64 {
        try await leases.revoke(id)
    }

    /// A lease and, if asked, the keys attached to it.
    public func lease(_ id: Int64, withKeys: Bool = false) async throws -> (lease: Lease, keys: [[UInt8]]) {
        let lease = try await leases.lease(id)
        return (lease, withKeys ? try await leases.keys(id) : [])
    }

    /// Every lease.
    public func allLeases() async throws -> [Lease] { try await leases.all() }

    // MARK: Watch

    /// Watches `range` from `startRevision` (0 = changes after now): an ordered stream of
    /// batches of changes, each change exactly once, with previous values, and of the
    /// progress markers asked for with ``requestProgress(_:)``.
    ///
    /// Fails with ``KineError/compacted(compactRevision:requested:)`` if `startRevision` is
    /// below the compact revision. The stream ends with ``KineError/watcherOverflow`` if its
    /// consumer falls more than ``KineOptions/watchBufferLimit`` batches behind, and ends
    /// when the store closes. Dropping the stream stops the watch.
    public func watch(_ range: KeyRange, startRevision: Int64 = 0) async throws -> KineWatch {
        let (stream, continuation) = AsyncThrowingStream<WatchMessage, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(options.watchBufferLimit))
        let id = try await watch(range, startRevision: startRevision, sink: StreamWatchSink(continuation: continuation))
        let hub = self.hub
        continuation.onTermination = { _ in hub.remove(id) }
        return KineWatch(id: id, stream: stream)
    }

    /// Watches `range` from `startRevision` (0 = changes after now), handing its batches of
    /// changes and its progress markers to `sink` as they are delivered. Returns the watch's
    /// ID, for ``requestProgress(_:)`` and ``cancelWatch(_:)``.
    ///
    /// Fails with ``KineError/compacted(compactRevision:requested:)`` if `startRevision` is
    /// below the compact revision; otherwise the watch runs until it is cancelled (the sink
    /// finishes normally), the store closes, the sink refuses a message
    /// (``KineError/watcherOverflow``) or its history cannot be read.
    public func watch(_ range: KeyRange, startRevision: Int64 = 0, sink: some WatchSink) async throws -> Int {
        if startRevision > 0 {
            let compacted = try await reader.compactRevision()
            if startRevision < compacted { throw KineError.compacted(compactRevision: compacted, requested: startRevision) }
        }
        // "From now" is after every write already answered, delivered to watchers or not.
        let from = startRevision > 0 ? startRevision : max(hub.revision, feed.publishedRevision) + 1
        let (id, start, delivered) = hub.register(range, startRevision: from, sink: sink)
        guard start <= delivered else { return id }
        let reader = self.reader, hub = self.hub
        Task {
            do {
                try await reader.history(range, from: start, to: delivered) { events in
                    guard hub.contains(id) else { throw WatchEnded() }
                    if !sink.receive(.events(events)) { throw KineError.watcherOverflow }
                }
                hub.finishCatchUp(id)
            } catch is WatchEnded {
                // Cancelled while its history was read: whoever ended it finished the sink.
            } catch {
                hub.end(id, error)
            }
        }
        return id
    }

    /// Stops reading a watch's history once the watch has ended.
    private struct WatchEnded: Error {}

    /// Asks for a progress marker in a watch's stream: it comes after every change up to the
    /// revision it names. Returns `false` if the watch has ended.
    @discardableResult
    public func requestProgress(_ watchID: Int) -> Bool {
        hub.requestProgress(watchID)
    }

    /// Ends a watch: its stream finishes normally.
    public func cancelWatch(_ watchID: Int) {
        hub.cancel(watchID)
    }

    /// The last revision delivered to watchers.
    public var watchRevision: Int64 { hub.revision }

    /// Delivers to watchers every change committed before the call, by this member or by
    /// another: afterwards ``watchRevision`` is at least the revision any client has been
    /// answered with, through any member. A watch created, or a progress answered, after
    /// this is never behind what the client has seen. On a store that is the only writer,
    /// every commit is delivered as it is made, and this returns at once.
    public func catchUpWatches() async throws {
        guard options.peerPollInterval != nil || options.peerSignal != nil else { return }
        try await feed.catchUp()
    }

    /// A revision at least that of every write any client has been answered for, through any
    /// member: after ``catchUpWatches()``, the newest revision delivered or published. On a
    /// store that is the only writer, read from memory without a database query.
    public func consistentRevision() async throws -> Int64 {
        try await catchUpWatches()
        return max(hub.revision, feed.publishedRevision)
    }

    /// The number of active watches.
    public var watchCount: Int { hub.watcherCount }

    /// Asks the watch feed to pick up changes written through another process or node.
    public func pollForChanges() { feed.poke() }

    /// Whether this store reached its database within the last `window`: on a cluster
    /// member, whether it can reach the leader (its poll for other members' changes got an
    /// answer). A store that is the database's only writer does not poll: always `true`.
    public func reachedDatabase(within window: Duration) -> Bool {
        guard options.peerPollInterval != nil else { return true }
        return databaseReached.within(window)
    }

    // MARK: Background

    private func startBackground() {
        let feed = self.feed, leases = self.leases, options = self.options, logger = self.logger
        let reader = self.reader, hub = self.hub, databaseReached = self.databaseReached
        let task = Task { [weak self] in
            await withDiscardingTaskGroup { group in
                group.addTask { await feed.run() }
                if let signal = options.peerSignal {
                    // Another member committed: read its changes now, not at the next poll.
                    group.addTask {
                        await signal.listen { change in
                            switch change {
                            case .events(let events): feed.received(events)
                            case .revision(let revision): feed.hint(revision)
                            }
                        }
                    }
                }
                if let interval = options.peerPollInterval {
                    // Other members' writes: a cheap look at the newest revision, and the
                    // feed reads the missing window only when there is one.
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: interval)
                            guard let current = try? await reader.currentRevision() else { continue }
                            databaseReached.now()
                            if current > hub.revision { feed.poke() }
                        }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await leases.revokeExpired()
                        } catch {
                            if !Task.isCancelled { logger.warning("lease expiry failed", metadata: ["error": "\(error)"]) }
                        }
                        try? await Task.sleep(for: options.leaseCheckInterval)
                    }
                }
                if let interval = options.compactionInterval {
                    group.addTask { [weak self] in
                        let clock = ContinuousClock()
                        var due = clock.now + interval
                        while !Task.isCancelled {
                            let wake = options.compactionRevisionBudget == nil
                                ? due : min(due, clock.now + options.compactionCheckInterval)
                            try? await Task.sleep(until: wake, clock: clock)
                            guard !Task.isCancelled, let self else { return }
                            if clock.now < due {
                                guard let budget = options.compactionRevisionBudget,
                                      let behind = try? await self.reader.revisionsPastCompaction(), behind > budget else { continue }
                            }
                            due = clock.now + interval
                            do {
                                let removed = try await self.compactNow()
                                logger.debug("compacted", metadata: ["rows": "\(removed)"])
                            } catch {
                                logger.warning("automatic compaction failed", metadata: ["error": "\(error)"])
                            }
                        }
                    }
                }
            }
        }
        background.withLock { $0 = task }
    }
}
