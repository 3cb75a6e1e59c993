/// A connection inside one transaction: the handle a ``SQLDatabase`` passes to the body of
/// ``SQLDatabase/read(_:)`` or ``SQLDatabase/write(_:)``.
///
/// It is valid only for the duration of that body and must not escape it.
public protocol SQLConnection {
    /// Runs a statement that returns no rows.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> SQLExecResult

    /// Runs a query and returns all of its rows.
    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow]
}

extension SQLConnection {
    /// Runs a statement without parameters that returns no rows.
    @discardableResult
    public func execute(_ sql: String) async throws -> SQLExecResult {
        try await execute(sql, [])
    }

    /// Runs a query without parameters.
    public func query(_ sql: String) async throws -> [SQLRow] {
        try await query(sql, [])
    }

    /// Runs a query and returns its first row, if any.
    public func queryFirst(_ sql: String, _ parameters: [SQLValue] = []) async throws -> SQLRow? {
        try await query(sql, parameters).first
    }
}
