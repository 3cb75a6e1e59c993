/// Errors a ``SQLDatabase`` reports.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database could not be opened.
    case openFailed(path: String, message: String)
    /// The data directory is in use by another process.
    case locked(path: String)
    /// A statement failed. `code` is the backend's own error code.
    case statementFailed(code: Int32, message: String, sql: String)
    /// A constraint (unique, not null, check) was violated.
    case constraintViolation(message: String)
    /// The database stayed busy longer than the backend is willing to wait.
    case busyTimeout(path: String)
    /// A statement carried more parameters than the backend accepts.
    case tooManyParameters(count: Int, limit: Int)
    /// The database has been closed.
    case closed
    /// A replicated database found no leader it could reach in time.
    case unavailable(String)

    public var description: String {
        switch self {
        case .openFailed(let path, let message):
            return "cannot open database \(path): \(message)"
        case .locked(let path):
            return "data directory \(path) is in use by another Skiff process; stop it or choose another --data-dir"
        case .statementFailed(let code, let message, let sql):
            return "SQL error \(code): \(message) (in: \(sql.prefix(120)))"
        case .constraintViolation(let message):
            return "constraint violated: \(message)"
        case .busyTimeout(let path):
            return "database \(path) stayed busy too long; another process holds a write lock on it"
        case .tooManyParameters(let count, let limit):
            return "statement has \(count) parameters, the backend accepts at most \(limit)"
        case .closed:
            return "database is closed"
        case .unavailable(let why):
            return "the cluster's database is unavailable: \(why)"
        }
    }
}
