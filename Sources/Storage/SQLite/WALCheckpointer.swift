import CSQLite3
import Logging
import Synchronization

/// Copies the WAL back into the database file on a connection and thread of its own, so
/// that the writer's commits do not stop for checkpoints.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold: the
/// writer reads every page of a log of ``SQLiteConfiguration/checkpointPages`` frames and
/// writes it into the database before it can start its next transaction, and writes queue
/// behind it. Here a commit that finds the log that long starts a PASSIVE checkpoint in the
/// background instead; WAL mode lets it run beside further commits.
///
/// The log only starts over once all of it is in the database file, and a background
/// checkpoint never copies what was committed while it ran. So background checkpoints
/// repeat, each copying what the last one left, until little is left (an eighth of the
/// threshold); then the writer copies that rest itself, between two commits, and its next
/// transaction starts the log over. If the background cannot keep up, the writer copies
/// everything once the log reaches four times the threshold, as SQLite's own checkpoint
/// would have.
final class WALCheckpointer: Sendable {
    private struct State {
        /// Which log this is: it counts the times the log started over.
        var generation = 0
        /// Frames of this log known to be in the database file.
        var copied = 0
        /// The log's length after the last commit.
        var frames = 0
        /// The log's length when the last checkpoint started.
        var lastStart = 0
        var lastWasBackground = false
    }

    private enum Step {
        case wait
        case background(generation: Int)
        case byWriter(generation: Int)
    }

    private let connection: SQLiteConnection
    private let pages: Int
    private let running = Atomic<Bool>(false)
    private let state = Mutex(State())
    private let logger: Logger

    /// Opens the checkpointer's connection to the database at `configuration.path`.
    init(_ configuration: SQLiteConfiguration, logger: Logger) throws {
        connection = try SQLiteConnection(path: configuration.path, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds)
        // A checkpoint syncs (or not) as its own connection's setting says.
        try connection.executeNow(SQLiteSQL.synchronous(configuration.synchronous))
        // Reading the schema opens the file and its WAL index.
        _ = try connection.queryNow(SQLiteSQL.pageCount)
        pages = max(8, configuration.checkpointPages)
        self.logger = logger
    }

    /// Takes over the checkpoints of `writer`, the database's only writing connection.
    func attach(to writer: SQLiteConnection) {
        writer.onCommit { [self, unowned writer] frames in committed(walFrames: frames, writer: writer) }
    }

    /// After each of the writer's commits, on the writer's thread.
    private func committed(walFrames frames: Int, writer: SQLiteConnection) {
        switch nextStep(walFrames: frames) {
        case .wait:
            break
        case .byWriter(let generation):
            record(writer.checkpointPassiveNow(), generation: generation)
        case .background(let generation):
            connection.enqueue { [self] in
                record(connection.checkpointPassiveNow(), generation: generation)
                running.store(false, ordering: .releasing)
            }
        }
    }

    private func nextStep(walFrames frames: Int) -> Step {
        state.withLock { s in
            if frames < s.frames {
                // The writer started the log over.
                s = State(generation: s.generation + 1)
            }
            s.frames = frames
            // Only the writer's thread starts checkpoints, so none starts after this check.
            guard frames >= pages, !running.load(ordering: .acquiring) else { return .wait }
            let left = frames - s.copied
            // With nothing new since the last try, a reader still holds what is left.
            let grown = frames - s.lastStart >= pages / 8
            if left <= pages / 8 || frames >= 4 * pages {
                guard grown || s.lastWasBackground else { return .wait }
                s.lastStart = frames
                s.lastWasBackground = false
                return .byWriter(generation: s.generation)
            }
            guard grown else { return .wait }
            s.lastStart = frames
            s.lastWasBackground = true
            running.store(true, ordering: .releasing)
            return .background(generation: s.generation)
        }
    }

    private func record(_ result: (code: Int32, copiedFrames: Int), generation: Int) {
        if result.code == SQLITE_OK {
            state.withLock { s in
                if s.generation == generation { s.copied = max(s.copied, result.copiedFrames) }
            }
        } else if result.code & 0xff != SQLITE_BUSY {
            // BUSY: a truncating checkpoint (reclaiming space) is running.
            logger.warning("WAL checkpoint failed", metadata: ["code": "\(result.code)", "path": "\(connection.path)"])
        }
    }

    /// Waits for a running checkpoint and closes the connection.
    func close() {
        connection.drain { connection.closeNow() }
    }
}
