/// The SQL text the dqlite backend runs on its own behalf, in one place.
enum DqliteSQL {
    static let begin = "BEGIN"
    static let commit = "COMMIT"
    static let rollback = "ROLLBACK"
    static let autoVacuumIncremental = "PRAGMA auto_vacuum = INCREMENTAL"
    static let vacuum = "VACUUM"
    static let incrementalVacuum = "PRAGMA incremental_vacuum"
    static let pageCount = "PRAGMA page_count"
    static let pageSize = "PRAGMA page_size"
    static let freelistCount = "PRAGMA freelist_count"
    /// Every write transaction records a random token; after a commit whose outcome the
    /// client could not see (the leader died), the token tells whether it landed.
    static let createCommitTokens = """
        CREATE TABLE IF NOT EXISTS skiff_commit_tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            token INTEGER NOT NULL)
        """
    static let createCommitTokenIndex = "CREATE INDEX IF NOT EXISTS skiff_commit_tokens_token ON skiff_commit_tokens (token)"
    static let insertCommitToken = "INSERT INTO skiff_commit_tokens (token) VALUES (?)"
    static let findCommitToken = "SELECT 1 FROM skiff_commit_tokens WHERE token = ?"
    /// Keeps the newest tokens only: an ambiguous commit is resolved within seconds.
    static let pruneCommitTokens = "DELETE FROM skiff_commit_tokens WHERE id <= ?"
    static let keptCommitTokens: Int64 = 10_000
}
