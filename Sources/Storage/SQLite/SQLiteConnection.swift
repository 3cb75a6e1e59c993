import CSQLite3
import Dispatch

/// One connection to an SQLite file: a thin binding of the C API with a cache of prepared
/// statements.
///
/// A connection is used by one caller at a time (the ``SQLiteDatabase`` pools guarantee
/// that); it is opened in SQLite's multi-thread mode. Its statements run on a serial
/// dispatch queue of its own, never on Swift's cooperative thread pool: a commit's fsync or
/// a long statement blocks that queue's thread only, not the tasks serving requests.
final class SQLiteConnection: SQLConnection, @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let queue: DispatchQueue
    /// Runs tasks on the connection's queue (see ``SQLDatabase/writeExecutor``).
    let executor: QueueTaskExecutor
    let path: String
    /// Marks the connection's queue, so that work already on it runs in place.
    private static let queueKey = DispatchSpecificKey<ObjectIdentifier>()

    /// SQLite's "let SQLite copy the bytes" destructor.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String, busyTimeoutMilliseconds: Int32) throws {
        self.path = path
        queue = DispatchQueue(label: "skiff.sqlite.connection")
        executor = QueueTaskExecutor(queue: queue)
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        // WAL writes gathered per commit (see CoalescingWALVFS); the default VFS if that
        // could not be registered.
        let rc = sqlite3_open_v2(path, &db, flags, CoalescingWALVFS.name)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StorageError.openFailed(path: path, message: message)
        }
        handle = db
        queue.setSpecific(key: Self.queueKey, value: ObjectIdentifier(self))
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit { closeNow() }

    /// Finalizes every cached statement and closes the connection.
    func closeNow() {
        for (_, stmt) in statements { sqlite3_finalize(stmt) }
        statements = [:]
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    // MARK: SQLConnection

    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> SQLExecResult {
        try await onQueue { try self.executeNow(sql, parameters) }
    }

    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
        try await onQueue { try self.queryNow(sql, parameters) }
    }

    /// Runs blocking SQLite work on the connection's own queue and waits for it; in place
    /// when the caller already runs there.
    func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        if DispatchQueue.getSpecific(key: Self.queueKey) == ObjectIdentifier(self) { return try work() }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    // MARK: Synchronous core

    /// Runs a statement, discarding any rows, and reports the rows it changed.
    @discardableResult
    func executeNow(_ sql: String, _ parameters: [SQLValue] = []) throws -> SQLExecResult {
        try withStatement(sql, parameters) { stmt in
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                if rc != SQLITE_ROW { throw error(rc, sql: sql) }
            }
            return SQLExecResult(
                lastInsertID: sqlite3_last_insert_rowid(handle),
                rowsAffected: Int64(sqlite3_changes64(handle)))
        }
    }

    /// Runs a query and collects its rows.
    func queryNow(_ sql: String, _ parameters: [SQLValue] = []) throws -> [SQLRow] {
        try withStatement(sql, parameters) { stmt in
            var rows: [SQLRow] = []
            let columns = sqlite3_column_count(stmt)
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw error(rc, sql: sql) }
                var values: [SQLValue] = []
                values.reserveCapacity(Int(columns))
                for i in 0..<columns { values.append(column(stmt, i)) }
                rows.append(SQLRow(values))
            }
            return rows
        }
    }

    private func withStatement<T>(_ sql: String, _ parameters: [SQLValue], _ body: (OpaquePointer) throws -> T) throws -> T {
        guard let handle else { throw StorageError.closed }
        let stmt: OpaquePointer
        if let cached = statements[sql] {
            stmt = cached
        } else {
            var prepared: OpaquePointer?
            let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard rc == SQLITE_OK, let prepared else { throw error(rc, sql: sql) }
            statements[sql] = prepared
            stmt = prepared
        }
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        guard expected == parameters.count else {
            throw StorageError.statementFailed(
                code: SQLITE_RANGE,
                message: "statement takes \(expected) parameters, \(parameters.count) given",
                sql: sql)
        }
        for (i, value) in parameters.enumerated() {
            let rc = bind(stmt, Int32(i + 1), value)
            guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
        }
        return try body(stmt)
    }

    private func bind(_ stmt: OpaquePointer, _ index: Int32, _ value: SQLValue) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(stmt, index)
        case .integer(let v):
            return sqlite3_bind_int64(stmt, index, v)
        case .real(let v):
            return sqlite3_bind_double(stmt, index, v)
        case .text(let s):
            return sqlite3_bind_text(stmt, index, s, -1, Self.transient)
        case .blob(let bytes):
            if bytes.isEmpty { return sqlite3_bind_zeroblob(stmt, index, 0) }
            return bytes.withUnsafeBytes { buffer in
                sqlite3_bind_blob(stmt, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
            }
        }
    }

    private func column(_ stmt: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(stmt, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(stmt, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(stmt, index))
        case SQLITE_TEXT:
            return .text(String(cString: sqlite3_column_text(stmt, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(stmt, index))
            guard count > 0, let pointer = sqlite3_column_blob(stmt, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: pointer, count: count)))
        default:
            return .null
        }
    }

    private func error(_ rc: Int32, sql: String) -> StorageError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "connection closed"
        if rc & 0xff == SQLITE_CONSTRAINT { return .constraintViolation(message: message) }
        return .statementFailed(code: rc, message: message, sql: sql)
    }
}

extension StorageError {
    /// Whether the error is SQLite's "database is busy/locked", which is worth retrying.
    var isBusy: Bool {
        if case .statementFailed(let code, _, _) = self {
            let primary = code & 0xff
            return primary == SQLITE_BUSY || primary == SQLITE_LOCKED
        }
        return false
    }
}
