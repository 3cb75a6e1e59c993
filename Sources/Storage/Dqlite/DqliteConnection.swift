/// The ``SQLConnection`` handed to the bodies of a ``DqliteDatabase``'s transactions: one
/// open database on a connection to the leader.
///
/// SQL errors become ``StorageError``s; losing the leader or the connection, and the write
/// lock being held by another member's transaction, stay ``DqliteError``s so that the
/// database can retry the whole transaction.
struct DqliteConnection: SQLConnection {
    let client: DqliteClient
    let db: UInt32

    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> SQLExecResult {
        try await mapped(sql) { try await client.exec(db: db, sql, parameters) }
    }

    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
        try await mapped(sql) { try await client.query(db: db, sql, parameters) }
    }

    func executeAll(_ statements: [SQLStatement]) async throws -> [SQLExecResult] {
        try await mapped(statements.first?.sql ?? "") { try await client.execAll(db: db, statements) }
    }

    func queryAll(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await mapped(statements.first?.sql ?? "") { try await client.queryAll(db: db, statements) }
    }

    private func mapped<T>(_ sql: String, _ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as DqliteError {
            if error.isLeadershipOrTransport || error.isBusy { throw error }
            if error.isConstraint, case .failure(_, let message) = error { throw StorageError.constraintViolation(message: message) }
            if case .failure(let code, let message) = error {
                throw StorageError.statementFailed(code: Int32(truncatingIfNeeded: code), message: message, sql: sql)
            }
            throw error
        }
    }
}
