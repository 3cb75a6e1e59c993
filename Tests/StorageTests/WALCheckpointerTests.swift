import Foundation
import TestSupport
import Testing
@testable import Storage

/// Checkpoints run beside the writer (``WALCheckpointer``): the log still starts over, stays
/// bounded, and waits for readers that need it, while every write commits.
@Suite struct WALCheckpointerTests {
    /// What the WAL file shows: its size, and its header's checkpoint sequence number, which
    /// SQLite advances each time the log starts over (the WAL file format, bytes 12-15).
    private struct WALFile {
        var bytes: Int
        var sequence: UInt32

        init(_ databasePath: String) throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: databasePath + "-wal"))
            bytes = data.count
            sequence = data.count >= 32 ? data[12..<16].reduce(0) { $0 << 8 | UInt32($1) } : 0
        }
    }

    private static let frameBytes = 4096 + 24

    private func open(_ dir: TemporaryDirectory, checkpointPages: Int) throws -> SQLiteDatabase {
        var configuration = SQLiteConfiguration(path: dir.path + "/test.db")
        configuration.synchronous = .normal
        configuration.checkpointPages = checkpointPages
        return try SQLiteDatabase(configuration)
    }

    private func insert(_ db: SQLiteDatabase, _ i: Int) async throws {
        try await db.write { c in
            try await c.execute("INSERT INTO t (i, v) VALUES (?, ?)", [.integer(Int64(i)), .blob(Array(repeating: UInt8(i & 0xFF), count: 3000))])
        }
    }

    @Test func theLogStartsOverAndStaysBoundedWhileTheWriterKeepsCommitting() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pages = 100
        let db = try open(dir, checkpointPages: pages)
        try await db.write { c in try await c.execute("CREATE TABLE t (i INTEGER, v BLOB)") }
        var sequences = Set<UInt32>()
        var largest = 0
        for i in 0..<1_500 {
            try await insert(db, i)
            let wal = try WALFile(dir.path + "/test.db")
            sequences.insert(wal.sequence)
            largest = max(largest, wal.bytes)
        }
        // 1,500 commits of at least one page each: with no checkpoint the log would hold them all.
        #expect(sequences.count >= 5, "the log started over \(sequences.count - 1) times")
        #expect(largest <= 8 * pages * Self.frameBytes, "the log reached \(largest / Self.frameBytes) frames")
        let rows = try await db.read { c in try await c.queryFirst("SELECT count(*), sum(i) FROM t") }
        #expect(rows?.int(0) == 1_500)
        #expect(rows?.int(1) == Int64(1_499 * 1_500 / 2))
        await db.close()
    }

    @Test func aReaderHoldingItsSnapshotDelaysTheRestartButNoWrite() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pages = 50
        let db = try open(dir, checkpointPages: pages)
        try await db.write { c in try await c.execute("CREATE TABLE t (i INTEGER, v BLOB)") }
        for i in 0..<10 { try await insert(db, i) }

        // A reader whose snapshot ends inside the log: no checkpoint may copy past it, and the
        // log cannot start over under it.
        let (inside, insideContinuation) = AsyncStream.makeStream(of: Int64.self)
        let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
        let reader = Task {
            try await db.read { c in
                let before = try await c.queryFirst("SELECT count(*) FROM t")?.int(0) ?? -1
                insideContinuation.yield(before)
                for await _ in release { break }
                return (before, try await c.queryFirst("SELECT count(*) FROM t")?.int(0) ?? -1)
            }
        }
        var iterator = inside.makeAsyncIterator()
        #expect(await iterator.next() == 10)
        let held = try WALFile(dir.path + "/test.db").sequence
        for i in 10..<410 { try await insert(db, i) }
        let whileHeld = try WALFile(dir.path + "/test.db")
        #expect(whileHeld.sequence == held)
        #expect(whileHeld.bytes > 8 * pages * Self.frameBytes, "the log kept every commit made under the reader")

        releaseContinuation.yield()
        let (before, after) = try await reader.value
        #expect(before == 10 && after == 10, "the reader kept its snapshot")
        for i in 410..<700 { try await insert(db, i) }
        #expect(try WALFile(dir.path + "/test.db").sequence != held, "the log started over once the reader was done")
        let count = try await db.read { c in try await c.queryFirst("SELECT count(*) FROM t")?.int(0) }
        #expect(count == 700)
        let check = try await db.read { c in try await c.queryFirst("PRAGMA integrity_check")?[0] }
        #expect(check == .text("ok"))
        await db.close()
    }
}
