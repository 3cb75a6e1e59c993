import Foundation
import TestSupport
import Testing
@testable import Storage

@Suite(.timeLimit(.minutes(5))) struct SQLiteDatabaseTests {
    private func open(_ dir: TemporaryDirectory, _ adjust: (inout SQLiteConfiguration) -> Void = { _ in }) throws -> SQLiteDatabase {
        var configuration = SQLiteConfiguration(path: dir.path + "/test.db")
        adjust(&configuration)
        return try SQLiteDatabase(configuration)
    }

    @Test func valuesRoundTrip() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        let values: [SQLValue] = [.null, .integer(-42), .integer(Int64.max), .real(2.5), .text("häkchen ✓"), .blob([0, 1, 255]), .blob([])]
        let rows = try await db.write { c in
            try await c.execute("CREATE TABLE t (v)")
            for v in values { try await c.execute("INSERT INTO t (v) VALUES (?)", [v]) }
            return try await c.query("SELECT v FROM t ORDER BY rowid")
        }
        #expect(rows.map { $0[0] } == values)
        await db.close()
    }

    @Test func executeReportsRowsAndInsertID() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        let (insert, update) = try await db.write { c in
            try await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
            let insert = try await c.execute("INSERT INTO t (v) VALUES (1), (2), (3)")
            let update = try await c.execute("UPDATE t SET v = v + 1 WHERE v >= ?", [2])
            return (insert, update)
        }
        #expect(insert.lastInsertID == 3)
        #expect(insert.rowsAffected == 3)
        #expect(update.rowsAffected == 2)
        await db.close()
    }

    @Test func throwingBodyRollsBack() async throws {
        struct Boom: Error {}
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        try await db.write { c in try await c.execute("CREATE TABLE t (v INTEGER)") }
        await #expect(throws: Boom.self) {
            try await db.write { c in
                try await c.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        let count = try await db.read { c in try await c.queryFirst("SELECT COUNT(*) FROM t")?.int(0) }
        #expect(count == 0)
        await db.close()
    }

    @Test func badSQLAndParameterCountAreClearErrors() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        await #expect(throws: StorageError.self) {
            try await db.read { c in try await c.query("SELEKT 1") }
        }
        do {
            _ = try await db.read { c in try await c.query("SELECT ?", []) }
            Issue.record("missing parameter accepted")
        } catch let error as StorageError {
            #expect(error.description.contains("takes 1 parameters, 0 given"))
        }
        // The connection is still usable afterwards.
        let one = try await db.read { c in try await c.queryFirst("SELECT 1")?.int(0) }
        #expect(one == 1)
        await db.close()
    }

    @Test func readersSeeOneSnapshotWhileTheWriterCommits() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        try await db.write { c in
            try await c.execute("CREATE TABLE t (v INTEGER)")
            try await c.execute("INSERT INTO t VALUES (1)")
        }
        let (before, after) = try await db.read { c in
            let before = try await c.queryFirst("SELECT COUNT(*) FROM t")!.int(0)
            try await db.write { w in try await w.execute("INSERT INTO t VALUES (2)") }
            let after = try await c.queryFirst("SELECT COUNT(*) FROM t")!.int(0)
            return (before, after)
        }
        #expect(before == 1)
        #expect(after == 1)
        let now = try await db.read { c in try await c.queryFirst("SELECT COUNT(*) FROM t")!.int(0) }
        #expect(now == 2)
        await db.close()
    }

    @Test func secondOpenOfTheSameFileIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        #expect(throws: StorageError.locked(path: dir.path + "/test.db.lock")) { try open(dir) }
        await db.close()
    }

    @Test func aWriterOutsideThePoolMakesUsWaitNotFail() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        // A second handle on the file stands for another process holding the write lock.
        let other = try open(dir) { $0.lockFile = false; $0.busyTimeoutMilliseconds = 10 }
        try await db.write { c in try await c.execute("CREATE TABLE t (v INTEGER)") }
        let (held, signal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await other.write { c in
                try await c.execute("INSERT INTO t VALUES (1)")
                signal.yield()
                try await Task.sleep(for: .milliseconds(600))
            }
        }
        for await _ in held { break }
        try await db.write { c in try await c.execute("INSERT INTO t VALUES (2)") }
        try await holder.value
        let count = try await db.read { c in try await c.queryFirst("SELECT COUNT(*) FROM t")!.int(0) }
        #expect(count == 2)
        await other.close()
        await db.close()
    }

    @Test func aLockHeldTooLongGivesBusyTimeoutNotLocked() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir) { $0.busyTimeoutMilliseconds = 20; $0.maxBusyWait = .milliseconds(200) }
        let other = try open(dir) { $0.lockFile = false }
        try await db.write { c in try await c.execute("CREATE TABLE t (v INTEGER)") }
        let (held, signal) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        // The other connection holds the write lock until the contender has given up, however
        // slowly a loaded machine schedules either of them.
        let holder = Task {
            try await other.write { c in
                try await c.execute("INSERT INTO t VALUES (1)")
                signal.yield()
                for await _ in released { break }
            }
        }
        for await _ in held { break }
        await #expect(throws: StorageError.busyTimeout(path: dir.path + "/test.db")) {
            try await db.write { c in try await c.execute("INSERT INTO t VALUES (2)") }
        }
        release.yield()
        try await holder.value
        await other.close()
        await db.close()
    }

    @Test func reclaimSpaceShrinksTheFileAfterDeletes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        let blob = SQLValue.blob(Array(repeating: 7, count: 4096))
        try await db.write { c in
            try await c.execute("CREATE TABLE t (v BLOB)")
            for _ in 0..<2000 { try await c.execute("INSERT INTO t VALUES (?)", [blob]) }
        }
        try await db.reclaimSpace()
        let full = try await db.sizeInBytes()
        try await db.write { c in try await c.execute("DELETE FROM t") }
        try await db.reclaimSpace()
        let emptied = try await db.sizeInBytes()
        let stats = try await db.pageStatistics()
        #expect(full > 8_000_000)
        #expect(emptied < full / 10)
        #expect(stats.free == 0)
        await db.close()
    }

    /// The WAL is copied back into the database once it holds `checkpointPages` pages, and
    /// then reused: with a small setting it stays small, with the default it keeps every
    /// commit of this test.
    @Test func theWALIsCheckpointedAfterTheConfiguredNumberOfPages() async throws {
        func walBytes(checkpointPages: Int?) async throws -> Int64 {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let db = try open(dir) { c in
                c.synchronous = .off
                if let checkpointPages { c.checkpointPages = checkpointPages }
            }
            let blob = SQLValue.blob(Array(repeating: 7, count: 3000))
            try await db.write { c in try await c.execute("CREATE TABLE t (v BLOB)") }
            for _ in 0..<600 { try await db.write { c in try await c.execute("INSERT INTO t VALUES (?)", [blob]) } }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: dir.path + "/test.db-wal")[.size] as? Int64) ?? nil
            await db.close()
            return bytes ?? 0
        }
        let small = try await walBytes(checkpointPages: 100)
        let byDefault = try await walBytes(checkpointPages: nil)
        // Each commit adds at least its row's page to the log (4 KiB pages plus headers).
        #expect(small < 250 * 4120, "\(small) bytes")
        #expect(byDefault > 600 * 4096, "\(byDefault) bytes")
    }

    @Test func backupIsAConsistentReadableCopy() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        try await db.write { c in
            try await c.execute("CREATE TABLE t (v INTEGER)")
            try await c.execute("INSERT INTO t VALUES (1), (2), (3)")
        }
        try await db.backup(to: dir.path + "/copy.db")
        await db.close()
        let copy = try SQLiteDatabase(SQLiteConfiguration(path: dir.path + "/copy.db"))
        let sum = try await copy.read { c in try await c.queryFirst("SELECT SUM(v) FROM t")!.int(0) }
        #expect(sum == 6)
        await copy.close()
    }

    @Test func closedDatabaseRefusesWork() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try open(dir)
        await db.close()
        await #expect(throws: StorageError.closed) {
            try await db.read { c in try await c.query("SELECT 1") }
        }
    }
}
