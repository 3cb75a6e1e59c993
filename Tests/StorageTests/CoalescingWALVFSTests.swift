import Foundation
import TestSupport
import Testing
@testable import Storage

/// The WAL writes SQLiteDatabase's connections make are gathered per commit; these check
/// that nothing a reader, a large transaction or a reopen depends on changes with it.
@Suite(.timeLimit(.minutes(5))) struct CoalescingWALVFSTests {
    private func open(_ dir: TemporaryDirectory, _ synchronous: SQLiteConfiguration.Synchronous = .full) throws -> SQLiteDatabase {
        var configuration = SQLiteConfiguration(path: dir.path + "/test.db")
        configuration.synchronous = synchronous
        return try SQLiteDatabase(configuration)
    }

    private static func row(_ i: Int, _ generation: UInt8) -> [SQLValue] {
        var name = Array("key-\(i)-".utf8)
        var state = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            name.append(UInt8(truncatingIfNeeded: state))
        }
        return [.blob(name), .blob(Array(repeating: generation, count: 1100))]
    }

    /// Transactions far larger than the page cache spill pages into the WAL before their
    /// commit and then rewrite some of them in place; the file must come out whole.
    @Test func transactionsLargerThanThePageCacheCommitWhole() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        let count = 12_000
        try await db.write { c in
            try await c.execute("CREATE TABLE t (name BLOB NOT NULL, value BLOB NOT NULL)")
            try await c.execute("CREATE INDEX t_name ON t (name)")
            for i in 0..<count { try await c.execute("INSERT INTO t VALUES (?, ?)", Self.row(i, 1)) }
        }
        try await db.write { c in try await c.execute("UPDATE t SET value = ?", [.blob(Array(repeating: 2, count: 1100))]) }
        try await db.write { c in try await c.execute("DELETE FROM t WHERE rowid % 2 = 0") }
        await db.close()

        let reopened = try open(dir)
        let check = try await reopened.read { c in try await c.queryFirst("PRAGMA integrity_check")?[0] }
        #expect(check == .text("ok"))
        let (rows, wrong) = try await reopened.read { c in
            (try await c.queryFirst("SELECT COUNT(*) FROM t")!.int(0),
             try await c.queryFirst("SELECT COUNT(*) FROM t WHERE value != ?", [.blob(Array(repeating: 2, count: 1100))])!.int(0))
        }
        #expect(rows == count / 2)
        #expect(wrong == 0)
        await reopened.close()
    }

    /// A commit is in the file, for every other connection, when the write returns, in each
    /// durability setting (without fsync at commit nothing else would push held writes out).
    @Test(arguments: SQLiteConfiguration.Synchronous.allCases)
    func everyCommitIsVisibleToOtherConnectionsAtOnce(_ synchronous: SQLiteConfiguration.Synchronous) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir, synchronous)
        try await db.write { c in try await c.execute("CREATE TABLE t (i INTEGER PRIMARY KEY, v BLOB)") }
        for i in 1...200 {
            try await db.write { c in
                try await c.execute("INSERT INTO t VALUES (?, ?)", [.integer(Int64(i)), .blob(Array(repeating: 9, count: 3000))])
            }
            let seen = try await db.read { c in try await c.queryFirst("SELECT MAX(i) FROM t")!.int(0) }
            #expect(seen == i)
            if seen != i { break }
        }
        await db.close()
    }
}
