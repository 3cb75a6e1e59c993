/// A SQL database that Skiff can run statements and transactions against.
///
/// This is the whole surface the KineLayer sees of storage. Backends (embedded SQLite,
/// a dqlite cluster, later perhaps PostgreSQL) hide their connections, pooling, busy
/// handling and replication behind it. Storage knows nothing about what is stored.
public protocol SQLDatabase: Sendable {
    /// The most parameters one statement may carry on this backend. Callers that build
    /// statements with many parameters split them to stay at or below this.
    var maxParametersPerStatement: Int { get }

    /// Runs `body` in a write transaction and commits it when `body` returns.
    ///
    /// Write transactions are serialized: at most one runs at a time. If `body` throws, the
    /// transaction is rolled back and the error is rethrown. A "database is busy" condition
    /// is retried inside the backend and never reaches the caller as such.
    @discardableResult
    func write<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T

    /// Runs `body` in a read transaction: every query in it sees one consistent snapshot.
    /// Reads run concurrently with each other and with the writer.
    @discardableResult
    func read<T: Sendable>(_ body: (any SQLConnection) async throws -> T) async throws -> T

    /// Gives space freed by deletes back to the file system, as far as the backend can.
    func reclaimSpace() async throws

    /// The bytes the database occupies on disk (or in memory, for an in-memory backend).
    func sizeInBytes() async throws -> Int64

    /// The bytes of that in use by data (the rest is free space awaiting reuse or reclaim).
    func usedBytes() async throws -> Int64

    /// Writes a consistent copy of the whole database to a new file at `path`.
    func backup(to path: String) async throws

    /// Closes every connection. Further calls fail with ``StorageError/closed``.
    func close() async

    /// Where a task that runs write transactions is best run: statements then follow each
    /// other on the writer's own thread with no hop between threads. `nil`: anywhere.
    var writeExecutor: (any TaskExecutor)? { get }

    /// The largest write transaction the backend handles well, for callers that choose how
    /// much work to put in one; `nil`: no limit short of the backend's hard ones.
    var preferredTransactionSize: TransactionSize? { get }
}

extension SQLDatabase {
    public var writeExecutor: (any TaskExecutor)? { nil }
    public var preferredTransactionSize: TransactionSize? { nil }
}

/// A write transaction's size: the changes (rows written) and bytes of values it carries.
public struct TransactionSize: Sendable, Hashable {
    public var changes: Int
    public var bytes: Int
    /// The most changes one request should make in one transaction, where the request can
    /// be carried out in steps (a plain range deletion); `nil`: no limit.
    public var requestChanges: Int?

    public init(changes: Int, bytes: Int, requestChanges: Int? = nil) {
        self.changes = changes
        self.bytes = bytes
        self.requestChanges = requestChanges
    }
}
