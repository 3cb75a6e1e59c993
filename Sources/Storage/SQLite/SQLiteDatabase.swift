#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// The embedded SQLite backend: one file in WAL mode, one writer connection and a pool of
/// reader connections, on the system libsqlite3.
///
/// Readers never wait for the writer (WAL). Writers queue for the single write connection
/// inside this process; if another process holds the file's write lock, SQLite's own busy
/// timeout and a bounded retry here absorb it, so "database is locked" never reaches a
/// caller (it becomes ``StorageError/busyTimeout(path:)`` only after
/// ``SQLiteConfiguration/maxBusyWait``).
public final class SQLiteDatabase: SQLDatabase {
    public let configuration: SQLiteConfiguration
    public var maxParametersPerStatement: Int { 999 }

    private let writer: ResourcePool<SQLiteConnection>
    public let writeExecutor: (any TaskExecutor)?
    private let readers: ResourcePool<SQLiteConnection>
    private let lock: DirectoryLock?
    private let logger: Logger

    /// Opens (creating if needed) the database at `configuration.path`.
    public init(_ configuration: SQLiteConfiguration, logger: Logger = Logger(label: "skiff.storage.sqlite")) throws {
        self.configuration = configuration
        self.logger = logger
        lock = configuration.lockFile ? try DirectoryLock(path: configuration.path + ".lock") : nil

        let writeConnection = try SQLiteConnection(path: configuration.path, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds)
        try Self.prepareWriter(writeConnection, configuration, logger: logger)
        writer = ResourcePool([writeConnection])
        writeExecutor = writeConnection.executor

        var readConnections: [SQLiteConnection] = []
        for _ in 0..<max(1, configuration.readerCount) {
            let c = try SQLiteConnection(path: configuration.path, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds)
            try Self.tune(c, configuration)
            readConnections.append(c)
        }
        readers = ResourcePool(readConnections)
    }

    private static func prepareWriter(_ c: SQLiteConnection, _ configuration: SQLiteConfiguration, logger: Logger) throws {
        // auto_vacuum must be chosen before the first table exists; an existing file made
        // without it is converted once by a full VACUUM.
        let pages = try c.queryNow(SQLiteSQL.pageCount).first?.int(0) ?? 0
        let mode = try c.queryNow(SQLiteSQL.autoVacuumMode).first?.int(0) ?? 0
        if mode != 2 {
            try c.executeNow(SQLiteSQL.autoVacuumIncremental)
            if pages > 0 {
                logger.info("converting database to incremental auto-vacuum", metadata: ["path": "\(configuration.path)"])
                try c.executeNow(SQLiteSQL.vacuum)
            }
        }
        _ = try c.queryNow(SQLiteSQL.journalModeWAL)
        try c.executeNow(SQLiteSQL.synchronous(configuration.synchronous))
        try c.executeNow(SQLiteSQL.journalSizeLimit)
        _ = try c.queryNow(SQLiteSQL.walAutocheckpoint(configuration.checkpointPages))
        try tune(c, configuration)
    }

    /// Settings every connection gets: no foreign keys, temporary data and the file map in
    /// memory. (A page cache much larger than SQLite's 2 MB default was tried: it made
    /// commits slower, some per-commit work grows with it.)
    private static func tune(_ c: SQLiteConnection, _ configuration: SQLiteConfiguration) throws {
        try c.executeNow(SQLiteSQL.foreignKeysOff)
        try c.executeNow(SQLiteSQL.tempStoreMemory)
        _ = try c.queryNow(SQLiteSQL.mmapSize(configuration.mmapBytes))
    }

    // MARK: SQLDatabase

    @discardableResult
    public func write<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await writer.withResource { c in
            try await retryingBusy { try await c.execute(SQLiteSQL.beginImmediate) }
            do {
                let value = try await body(c)
                try await retryingBusy { try await c.execute(SQLiteSQL.commit) }
                return value
            } catch {
                _ = try? await c.execute(SQLiteSQL.rollback)
                throw error
            }
        }
    }

    @discardableResult
    public func read<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T {
        try await readers.withResource { c in
            try await c.execute(SQLiteSQL.beginDeferred)
            do {
                let value = try await body(c)
                try await c.execute(SQLiteSQL.commit)
                return value
            } catch {
                _ = try? await c.execute(SQLiteSQL.rollback)
                throw error
            }
        }
    }

    public func reclaimSpace() async throws {
        try await writer.withResource { c in
            try await retryingBusy { try await c.execute(SQLiteSQL.incrementalVacuum) }
            // A checkpoint cannot pass readers still using old snapshots; it then truncates
            // what it can and the next one finishes the job.
            _ = try await retryingBusy { try await c.query(SQLiteSQL.checkpointTruncate) }
        }
    }

    public func sizeInBytes() async throws -> Int64 {
        Self.fileSize(configuration.path) + Self.fileSize(configuration.path + "-wal")
    }

    public func usedBytes() async throws -> Int64 {
        let stats = try await pageStatistics()
        return (stats.pages - stats.free) * stats.pageSize
    }

    public func backup(to path: String) async throws {
        try await readers.withResource { c in
            try await retryingBusy { try await c.execute(SQLiteSQL.vacuumInto, [.text(path)]) }
        }
    }

    public func close() async {
        for c in writer.close() { c.closeNow() }
        for c in readers.close() { c.closeNow() }
        lock?.release()
    }

    /// Page statistics of the file: total pages, free pages, page size.
    public func pageStatistics() async throws -> (pages: Int64, free: Int64, pageSize: Int64) {
        try await readers.withResource { c in
            let pages = try await c.queryFirst(SQLiteSQL.pageCount)?.int(0) ?? 0
            let free = try await c.queryFirst(SQLiteSQL.freelistCount)?.int(0) ?? 0
            let size = try await c.queryFirst(SQLiteSQL.pageSize)?.int(0) ?? 0
            return (pages, free, size)
        }
    }

    // MARK: Busy handling

    /// Retries `operation` while SQLite reports busy, with growing pauses, for at most
    /// ``SQLiteConfiguration/maxBusyWait``.
    @discardableResult
    private func retryingBusy<T>(_ operation: () async throws -> T) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.maxBusyWait
        var pause = Duration.milliseconds(1)
        while true {
            do {
                return try await operation()
            } catch let error as StorageError where error.isBusy {
                guard clock.now < deadline else { throw StorageError.busyTimeout(path: configuration.path) }
                logger.debug("database busy, retrying", metadata: ["path": "\(configuration.path)"])
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(100))
            }
        }
    }

    private static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }
}

import CSQLite3

extension SQLiteDatabase {
    /// The version of the SQLite library in use.
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
