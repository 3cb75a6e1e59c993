/// The SQL text the dqlite backend runs on its own behalf, in one place.
enum DqliteSQL {
    static let begin = "BEGIN"
    static let beginImmediate = "BEGIN IMMEDIATE"
    /// Run on every new connection to the leader (each is its own SQLite connection there).
    ///
    /// - `cache_spill = OFF`: a transaction's dirty pages stay in SQLite's page cache until
    ///   COMMIT instead of being spilled to the WAL when the cache (2 MB) fills. dqlite
    ///   1.11.1's in-memory WAL answers a read of a spilled frame with SQLITE_IOERR_SHORT_READ
    ///   (522) while the WAL holds no committed frame, which is right after every checkpoint,
    ///   and its commits after such errors were seen to leave `sqlite_sequence` behind the
    ///   rows (every later batch then failed on UNIQUE(kine.id)). Batches of random keys
    ///   dirty more than 2 MB of index pages under load.
    /// - `temp_store = MEMORY`: SQLite's temporary databases (VACUUM builds one) stay out of
    ///   dqlite's VFS, whose commit hook dereferences the main database of a file that has
    ///   none when SQLite commits a temporary file (a SIGSEGV in the node process).
    static let connectionSetup = ["PRAGMA cache_spill = OFF", "PRAGMA temp_store = MEMORY"]
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
