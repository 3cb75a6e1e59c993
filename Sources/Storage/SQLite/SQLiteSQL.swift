/// The SQL text the embedded SQLite backend runs on its own behalf, in one place.
enum SQLiteSQL {
    static let journalModeWAL = "PRAGMA journal_mode = WAL"
    static let journalModeDelete = "PRAGMA journal_mode = DELETE"
    static func synchronous(_ s: SQLiteConfiguration.Synchronous) -> String { "PRAGMA synchronous = \(s.rawValue)" }
    static let autoVacuumIncremental = "PRAGMA auto_vacuum = INCREMENTAL"
    static let autoVacuumMode = "PRAGMA auto_vacuum"
    static let pageCount = "PRAGMA page_count"
    static let pageSize = "PRAGMA page_size"
    static let freelistCount = "PRAGMA freelist_count"
    static let foreignKeysOff = "PRAGMA foreign_keys = OFF"
    /// Sorts and temporary indexes in memory, not in files created and unlinked per query.
    static let tempStoreMemory = "PRAGMA temp_store = MEMORY"
    /// Pages are read through a shared memory map instead of a read system call each.
    static func mmapSize(_ bytes: Int) -> String { "PRAGMA mmap_size = \(bytes)" }
    static let queryOnly = "PRAGMA query_only = 1"
    /// How many WAL pages trigger a checkpoint after a commit.
    static func walAutocheckpoint(_ pages: Int) -> String { "PRAGMA wal_autocheckpoint = \(pages)" }
    /// Keep the WAL file from staying large after a checkpoint.
    static let journalSizeLimit = "PRAGMA journal_size_limit = 67108864"
    static let incrementalVacuum = "PRAGMA incremental_vacuum"
    static let checkpointTruncate = "PRAGMA wal_checkpoint(TRUNCATE)"
    static let vacuum = "VACUUM"
    static let vacuumInto = "VACUUM INTO ?"
    static let beginImmediate = "BEGIN IMMEDIATE"
    static let beginDeferred = "BEGIN"
    static let commit = "COMMIT"
    static let rollback = "ROLLBACK"
}
