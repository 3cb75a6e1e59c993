/// What a statement that returns no rows reports.
public struct SQLExecResult: Sendable, Hashable {
    /// The rowid of the last row inserted on the connection.
    public var lastInsertID: Int64
    /// How many rows the statement inserted, updated or deleted.
    public var rowsAffected: Int64

    public init(lastInsertID: Int64, rowsAffected: Int64) {
        self.lastInsertID = lastInsertID
        self.rowsAffected = rowsAffected
    }
}
