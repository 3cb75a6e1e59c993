import Foundation
import Logging
import Synchronization

/// The replicated backend: a database in a dqlite cluster, reached over the dqlite wire
/// protocol. Only the leader runs SQL, so every connection goes to the current leader and
/// follows it when leadership moves.
///
/// Writes are serialized inside this process (one writer connection); writers of other
/// members are serialized by the leader, whose "busy" answers are retried here. A write
/// transaction that fails because the leader went away is run again on the new leader
/// unless it may have committed: each write records a random token in the same
/// transaction, and after a commit whose answer was lost the token is looked up to decide.
/// A non-idempotent transaction is therefore never applied twice.
public final class DqliteDatabase: SQLDatabase {
    public let configuration: DqliteConfiguration
    public var maxParametersPerStatement: Int { 255 }
    /// Every transaction is one Raft entry holding the whole pages it changed (a random key
    /// dirties an index page of 4 KiB), which every member writes to its log and keeps until
    /// a snapshot: 256 changes and 1 MiB keep entries, and the log behind them, bounded
    /// (about 3 MB for 256 random 256-byte keys). The leader's write lock is held from BEGIN
    /// to the end of the Raft round, one transaction at a time, so the more changes share a
    /// round the more a cluster writes: through one member, 64 gave 2,700-2,900 writes/s and
    /// 256 gave 3,350-4,000 (batches of 150).
    ///
    /// A range deletion goes in steps of 16,384 keys: each deleted key adds a tombstone row
    /// and an index entry beside the key's own, so one transaction for every key of a large
    /// range rewrites the whole index (about 950 bytes a key: 170 MB for the 180,000 keys
    /// `etcdctl check perf --load=l` deletes when it ends). An entry that size takes longer to
    /// reach a follower than the election timeout, during which the leader's heartbeats
    /// wait behind it: the follower calls an election, the commit is lost and retried, and
    /// dqlite 1.11.1 was seen to abort (`gateway__resume: Assertion g->stmt != NULL`).
    public var preferredTransactionSize: TransactionSize? { TransactionSize(changes: 256, bytes: 1 << 20, requestChanges: 16_384) }

    private let writer: ResourcePool<LeaderSlot>
    private let readers: ResourcePool<LeaderSlot>
    private let known: Mutex<[String]>
    private let schemaReady = Mutex(false)
    private let logger: Logger
    private let clock = ContinuousClock()

    /// A database on the cluster reachable at `configuration.addresses`. Connections are
    /// made on first use.
    public init(_ configuration: DqliteConfiguration, logger: Logger = Logger(label: "skiff.storage.dqlite")) {
        self.configuration = configuration
        self.logger = logger
        known = Mutex(configuration.addresses)
        writer = ResourcePool([LeaderSlot()])
        readers = ResourcePool((0..<max(1, configuration.readerCount)).map { _ in LeaderSlot() })
    }

    /// The member addresses this client currently knows, the last leader first.
    public var knownAddresses: [String] { known.withLock { $0 } }

    // MARK: SQLDatabase

    @discardableResult
    public func write<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await writer.withResource { slot in
            try await onLeader(slot) { c in
                try await prepareSchema(c)
                let token = Int64.random(in: 1...Int64.max)
                // IMMEDIATE: the write lock is taken (or "busy" answered) before any of the
                // body's reads, so a batch is never read and then thrown away because another
                // member's commit got the lock first.
                try await c.execute(DqliteSQL.beginImmediate)
                let value: T
                let inserted: SQLExecResult
                do {
                    value = try await body(c)
                    inserted = try await c.execute(DqliteSQL.insertCommitToken, [.integer(token)])
                } catch {
                    await abandon(slot, c, after: error)
                    throw error
                }
                do {
                    try await c.execute(DqliteSQL.commit)
                } catch {
                    // Whatever the COMMIT's error says, its frames may have been replicated:
                    // dqlite applies a commit's frames even when SQLite reports an I/O error
                    // after writing them, and a lost answer says nothing. Only the token tells.
                    slot.drop()
                    logger.info("commit outcome unknown; looking for its token", metadata: ["error": "\(error)"])
                    if try await tokenLanded(token, slot) {
                        logger.info("the ambiguous commit landed")
                        return value
                    }
                    // Not committed: run the transaction again (onLeader retries this error).
                    throw DqliteError.commitNotApplied("\(error)")
                }
                if inserted.lastInsertID % 1000 == 0 { await pruneTokens(c, below: inserted.lastInsertID) }
                return value
            }
        }
    }

    /// Ends a transaction (read, or write before its COMMIT) whose body failed. A "busy"
    /// answer, a constraint or an error of the body's own leaves the connection fit for reuse
    /// (it is rolled back); losing the leader or the connection, or an unexpected SQL error
    /// such as an I/O error, leaves the leader's connection in a state not worth trusting, so
    /// it is dropped (the leader rolls back what the connection held when it closes).
    private func abandon(_ slot: LeaderSlot, _ c: DqliteConnection, after error: any Error) async {
        if let dqlite = error as? DqliteError {
            if dqlite.isBusy { _ = try? await c.execute(DqliteSQL.rollback) } else { slot.drop() }
            return
        }
        if case StorageError.statementFailed = error {
            slot.drop()
            return
        }
        _ = try? await c.execute(DqliteSQL.rollback)
    }

    @discardableResult
    public func read<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await readers.withResource { slot in
            try await onLeader(slot) { c in
                try await c.execute(DqliteSQL.begin)
                do {
                    let value = try await body(c)
                    try await c.execute(DqliteSQL.commit)
                    return value
                } catch {
                    await abandon(slot, c, after: error)
                    throw error
                }
            }
        }
    }

    /// Rebuilds the replicated database (VACUUM, outside a transaction) when more than a
    /// quarter of it is free pages and it is at most ``DqliteConfiguration/maxVacuumBytes``.
    ///
    /// A VACUUM is one transaction that rewrites every page, so it becomes one Raft entry
    /// the size of the database, held in memory on every node and written to every log;
    /// beyond a few megabytes that stalls replication (heartbeats wait behind it). A larger
    /// database keeps its free pages, which SQLite reuses for new rows: its size stays at
    /// its peak instead of growing. dqlite cannot run incremental vacuum (it returns a row
    /// per freed page, and dqlite's EXEC stops at the first row). The Raft log itself is
    /// trimmed by dqlite's snapshots.
    public func reclaimSpace() async throws {
        let stats = try await pageStatistics()
        guard stats.free > 256, stats.free * 4 > stats.pages else { return }
        guard stats.pages * stats.pageSize <= configuration.maxVacuumBytes else {
            logger.debug("free pages are left for reuse: the database is too large to rewrite in one Raft entry",
                         metadata: ["pages": "\(stats.pages)", "free": "\(stats.free)"])
            return
        }
        try await writer.withResource { slot in
            try await onLeader(slot) { c in try await c.execute(DqliteSQL.vacuum) }
        }
    }

    public func sizeInBytes() async throws -> Int64 {
        let stats = try await pageStatistics()
        return stats.pages * stats.pageSize
    }

    public func usedBytes() async throws -> Int64 {
        let stats = try await pageStatistics()
        return (stats.pages - stats.free) * stats.pageSize
    }

    /// Copies the leader's database files and folds the WAL into the main file at `path`.
    /// When the node refuses the dump as SQLITE_CORRUPT (its in-memory file and header
    /// disagree after a VACUUM shrank the database), the copy is made over SQL instead
    /// (``DqliteSQLCopy``), in one read transaction.
    public func backup(to path: String) async throws {
        let files: [(name: String, bytes: [UInt8])]
        do {
            files = try await readers.withResource { slot in
                try await onLeader(slot) { c in try await c.client.dump(configuration.database) }
            }
        } catch DqliteError.failure(let code, let message) where code == DqliteWire.sqliteCorrupt {
            logger.warning("the node refused to dump the database; copying it over SQL", metadata: ["error": "\(message)"])
            try await read { c in try await DqliteSQLCopy.copy(c, to: path) }
            return
        }
        for file in files {
            let target = file.name.hasSuffix("-wal") ? path + "-wal" : path
            guard FileManager.default.createFile(atPath: target, contents: Data(file.bytes), attributes: [.posixPermissions: 0o600]) else {
                throw StorageError.openFailed(path: target, message: "cannot write the backup file")
            }
        }
        let copy = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000)
        _ = try copy.queryNow(SQLiteSQL.checkpointTruncate)
        _ = try copy.queryNow(SQLiteSQL.journalModeDelete)
        copy.closeNow()
        try? FileManager.default.removeItem(atPath: path + "-wal")
    }

    public func close() async {
        for slot in writer.close() { slot.drop() }
        for slot in readers.close() { slot.drop() }
    }

    /// Page statistics of the replicated database: total pages, free pages, page size.
    public func pageStatistics() async throws -> (pages: Int64, free: Int64, pageSize: Int64) {
        try await read { c in
            let pages = try await c.queryFirst(DqliteSQL.pageCount)?.int(0) ?? 0
            let free = try await c.queryFirst(DqliteSQL.freelistCount)?.int(0) ?? 0
            let size = try await c.queryFirst(DqliteSQL.pageSize)?.int(0) ?? 0
            return (pages, free, size)
        }
    }

    // MARK: Leader connections

    /// Runs `operation` on the slot's connection to the leader; when leadership moves or
    /// the connection breaks, again on a new connection, and when another member's write
    /// holds the lock, again after a short pause, until the failover deadline.
    private func onLeader<T>(_ slot: LeaderSlot, _ operation: (DqliteConnection) async throws -> T) async throws -> T {
        let deadline = clock.now + configuration.failoverDeadline
        var attempt = 0
        while true {
            attempt += 1
            let c = try await connection(slot, deadline: deadline)
            do {
                return try await operation(c)
            } catch let error as DqliteError where error.isLeadershipOrTransport {
                slot.drop()
                try await pauseBeforeRetry(attempt: attempt, deadline: deadline, error)
            } catch let error as DqliteError where error.isBusy {
                try await pauseBeforeRetry(attempt: attempt, deadline: deadline, error, busy: true)
            }
        }
    }

    /// The slot's connection to the leader, made (after finding the leader) if it has none.
    private func connection(_ slot: LeaderSlot, deadline: ContinuousClock.Instant) async throws -> DqliteConnection {
        var attempt = 0
        while true {
            if let c = slot.current, c.client.isActive { return c }
            slot.drop()
            attempt += 1
            do {
                let client = try await DqliteLeaderFinder(addresses: knownAddresses, tls: configuration.tls,
                                                          timeout: configuration.requestTimeout,
                                                          faults: configuration.faults).connectToLeader()
                do {
                    let db = try await client.open(configuration.database)
                    let c = DqliteConnection(client: client, db: db)
                    for pragma in DqliteSQL.connectionSetup { try await c.execute(pragma) }
                    slot.set(c)
                    await learnMembers(client)
                    return c
                } catch {
                    client.close()
                    throw error
                }
            } catch let error as DqliteError where error.isLeadershipOrTransport {
                try await pauseBeforeRetry(attempt: attempt, deadline: deadline, error)
            }
        }
    }

    /// Puts the leader first in the known addresses and adds members not yet known.
    private func learnMembers(_ leader: DqliteClient) async {
        let members = (try? await leader.cluster()) ?? []
        known.withLock { list in
            var merged = [leader.address]
            for address in list + members.map(\.address) where !merged.contains(address) { merged.append(address) }
            list = merged
        }
    }

    private func prepareSchema(_ c: DqliteConnection) async throws {
        guard !schemaReady.withLock({ $0 }) else { return }
        try await c.execute(DqliteSQL.createCommitTokens)
        try await c.execute(DqliteSQL.createCommitTokenIndex)
        schemaReady.withLock { $0 = true }
    }

    /// Whether the write that recorded `token` committed, asked of the (new) leader on a new
    /// connection in the writer's slot. The question is asked under the write lock
    /// (`BEGIN IMMEDIATE`, answered "busy" and retried while a commit is in flight): a
    /// commit whose answer was lost may still be on its way through Raft on the same leader,
    /// and a plain read would not yet see it. A new leader first applies every entry its log
    /// holds (dqlite's barrier), so a commit that reached it is found there.
    private func tokenLanded(_ token: Int64, _ slot: LeaderSlot) async throws -> Bool {
        try await onLeader(slot) { c in
            try await c.execute(DqliteSQL.beginImmediate)
            do {
                let found = try await c.queryFirst(DqliteSQL.findCommitToken, [.integer(token)]) != nil
                try await c.execute(DqliteSQL.rollback)
                return found
            } catch {
                slot.drop()
                throw error
            }
        }
    }

    private func pruneTokens(_ c: DqliteConnection, below id: Int64) async {
        _ = try? await c.execute(DqliteSQL.pruneCommitTokens, [.integer(id - DqliteSQL.keptCommitTokens)])
    }

    private func pauseBeforeRetry(attempt: Int, deadline: ContinuousClock.Instant, _ error: DqliteError, busy: Bool = false) async throws {
        guard clock.now < deadline else {
            throw StorageError.unavailable("no leader answered within \(configuration.failoverDeadline) (last error: \(error))")
        }
        let pause: Duration = busy ? .microseconds(Int64.random(in: 500...3000))
                                   : .milliseconds(min(10 << min(attempt, 5), 250))
        if !busy { logger.debug("retrying after dqlite error", metadata: ["error": "\(error)", "attempt": "\(attempt)"]) }
        try await Task.sleep(for: pause)
    }
}

/// A pooled place for one connection to the leader, re-made when it breaks.
final class LeaderSlot: Sendable {
    private let connection = Mutex<DqliteConnection?>(nil)

    var current: DqliteConnection? { connection.withLock { $0 } }

    func set(_ c: DqliteConnection) { connection.withLock { $0 = c } }

    func drop() {
        let old = connection.withLock { c in defer { c = nil }; return c }
        old?.client.close()
    }
}
