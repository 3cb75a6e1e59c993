/// How an embedded SQLite database is opened.
public struct SQLiteConfiguration: Sendable {
    /// SQLite's `synchronous` setting for the WAL journal.
    public enum Synchronous: String, Sendable, CaseIterable {
        /// fsync on every commit: an acknowledged write survives power loss. The default.
        case full = "FULL"
        /// fsync at checkpoints only: survives a process crash, may lose the last commits on power loss.
        case normal = "NORMAL"
        /// Never fsync. For tests and throwaway data.
        case off = "OFF"
    }

    /// The database file's path.
    public var path: String
    /// Durability of commits.
    public var synchronous: Synchronous = .full
    /// How many read connections serve concurrent reads.
    public var readerCount: Int = 4
    /// How long SQLite itself waits on a lock before it reports busy, in milliseconds.
    public var busyTimeoutMilliseconds: Int32 = 1_000
    /// How long, in total, a busy database is retried before the caller gets an error.
    public var maxBusyWait: Duration = .seconds(30)
    /// How much of the file is read through a memory map (0 turns it off).
    public var mmapBytes: Int = 1 << 30
    /// WAL pages after which a commit copies the log back into the database file (SQLite's
    /// `wal_autocheckpoint`). SQLite's default of 1,000 made a checkpoint every hundred-odd
    /// commits under load, each run on the writer between commits; 10,000 (a log of about
    /// 40 MB at most, under the 64 MB journal size limit) copies each hot page
    /// once for ten times as many commits.
    public var checkpointPages: Int = 10_000
    /// Whether to hold an exclusive lock file beside the database (`PATH.lock`).
    public var lockFile: Bool = true

    public init(path: String) {
        self.path = path
    }
}
