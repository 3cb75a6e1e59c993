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

    /// Runs statements that return no rows, in order. A backend across a network sends them
    /// all before it waits for the first answer, so that they cost one round trip. If one
    /// fails, its error is thrown, and the statements after it may have run: the caller
    /// abandons the transaction.
    @discardableResult
    func executeAll(_ statements: [SQLStatement]) async throws -> [SQLExecResult]

    /// Runs queries in order and returns their rows, sent together as ``executeAll(_:)``
    /// sends statements.
    func queryAll(_ statements: [SQLStatement]) async throws -> [[SQLRow]]
}

/// One statement and its parameters.
public struct SQLStatement: Sendable {
    public var sql: String
    public var parameters: [SQLValue]

    public init(_ sql: String, _ parameters: [SQLValue] = []) {
        self.sql = sql
        self.parameters = parameters
    }
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

    /// One statement after another (a backend in this process gains nothing by sending them together).
    @discardableResult
    public func executeAll(_ statements: [SQLStatement]) async throws -> [SQLExecResult] {
        var results: [SQLExecResult] = []
        for statement in statements { results.append(try await execute(statement.sql, statement.parameters)) }
        return results
    }

    /// One query after another.
    public func queryAll(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        var results: [[SQLRow]] = []
        for statement in statements { results.append(try await query(statement.sql, statement.parameters)) }
        return results
    }

    /// Runs a query and returns its first row, if any.
    public func queryFirst(_ sql: String, _ parameters: [SQLValue] = []) async throws -> SQLRow? {
        try await query(sql, parameters).first
    }
}
