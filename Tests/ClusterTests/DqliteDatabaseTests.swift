import Cluster
import Foundation
@testable import Storage
import TestSupport
import Testing

/// The wire-protocol client and the replicated backend against a real one-member cluster.
extension ClusterIntegrationTests {
    @Test func wireClientCarriesEveryValueTypeAndLargeResults() async throws {
        let cluster = try TestCluster.start(1)
        defer { cluster.destroy() }
        let db = DqliteDatabase(try cluster.datastoreConfiguration())
        defer { Task { await db.close() } }
        #expect(db.maxParametersPerStatement == 255)

        try await db.write { c in
            try await c.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
            try await c.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                                [.integer(-42), .real(2.5), .text("héllo\u{1F30A}"), .blob([0, 1, 2, 255]), .null])
        }
        let row = try #require(try await db.read { c in try await c.queryFirst("SELECT i, r, s, b, n FROM t") })
        #expect(row.values == [.integer(-42), .real(2.5), .text("héllo\u{1F30A}"), .blob([0, 1, 2, 255]), .null])

        // 5,000 rows of 1 KiB: a result that comes in many ROWS frames.
        let blob = [UInt8](repeating: 0x5A, count: 1024)
        try await db.write { c in
            try await c.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v BLOB)")
            for chunk in stride(from: 0, to: 5000, by: 100) {
                let values = (chunk..<chunk + 100).flatMap { [SQLValue.integer(Int64($0)), .blob(blob)] }
                let placeholders = Array(repeating: "(?, ?)", count: 100).joined(separator: ", ")
                try await c.execute("INSERT INTO big (id, v) VALUES " + placeholders, values)
            }
        }
        let rows = try await db.read { c in try await c.query("SELECT id, v FROM big ORDER BY id") }
        #expect(rows.count == 5000)
        #expect(rows.enumerated().allSatisfy { $0.element.int(0) == Int64($0.offset) && $0.element.bytes(1) == blob })

        // More than 255 parameters is refused before anything is sent (dqlite 1.11 would bind NULLs).
        await #expect(throws: StorageError.tooManyParameters(count: 256, limit: 255)) {
            try await db.write { c in
                let placeholders = Array(repeating: "?", count: 256).joined(separator: ", ")
                try await c.execute("SELECT " + placeholders, Array(repeating: .integer(1), count: 256))
            }
        }
        // A failed transaction leaves nothing behind; constraint violations keep their meaning.
        try await db.write { c in try await c.execute("CREATE TABLE u (k TEXT PRIMARY KEY)") }
        await #expect(throws: StorageError.self) {
            try await db.write { c in
                try await c.execute("INSERT INTO u VALUES ('a')")
                try await c.execute("INSERT INTO u VALUES ('a')")
            }
        }
        #expect(try await db.read { c in try await c.queryFirst("SELECT count(*) FROM u")?.int(0) } == 0)

        // Space is given back: the file shrinks after the big table goes.
        let before = try await db.sizeInBytes()
        try await db.write { c in try await c.execute("DROP TABLE big") }
        try await db.reclaimSpace()
        let after = try await db.sizeInBytes()
        #expect(after < before / 2, "size \(before) -> \(after) bytes")
        try await db.write { c in try await c.execute("CREATE TABLE big AS SELECT 1 AS id") }

        // A consistent copy for etcd snapshots: a plain SQLite file with the same rows.
        let copy = cluster.root + "/copy.db"
        try await db.backup(to: copy)
        let sqlite = try SQLiteDatabase(SQLiteConfiguration(path: copy))
        #expect(try await sqlite.read { c in try await c.queryFirst("SELECT count(*) FROM t")?.int(0) } == 1)
        await sqlite.close()

        // The copy made over SQL, for when the node refuses to dump: the same rows, the
        // AUTOINCREMENT counter, the indexes.
        try await db.write { c in
            try await c.execute("CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT, v BLOB)")
            try await c.execute("CREATE INDEX seq_k ON seq (k)")
            for chunk in stride(from: 0, to: 1200, by: 100) {
                let values = (chunk..<chunk + 100).flatMap { [SQLValue.text("key-\($0)"), .blob([UInt8(truncatingIfNeeded: $0)])] }
                try await c.execute("INSERT INTO seq (k, v) VALUES " + Array(repeating: "(?, ?)", count: 100).joined(separator: ", "), values)
            }
            try await c.execute("DELETE FROM seq WHERE id > 1190")
        }
        let overSQL = cluster.root + "/over-sql.db"
        try await db.read { c in try await DqliteSQLCopy.copy(c, to: overSQL) }
        let copied = try SQLiteDatabase(SQLiteConfiguration(path: overSQL))
        let (count, sequence, index, typed) = try await copied.read { c in
            (try await c.queryFirst("SELECT count(*), sum(length(v)) FROM seq")?.values,
             try await c.queryFirst("SELECT seq FROM sqlite_sequence WHERE name = 'seq'")?.int(0),
             try await c.queryFirst("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'seq_k'")?.int(0),
             try await c.queryFirst("SELECT i, r, s, b, n FROM t")?.values)
        }
        #expect(count == [.integer(1190), .integer(1190)])
        #expect(sequence == 1200, "the AUTOINCREMENT counter is kept")
        #expect(index == 1)
        #expect(typed == [.integer(-42), .real(2.5), .text("héllo\u{1F30A}"), .blob([0, 1, 2, 255]), .null])
        await copied.close()
    }

    /// Requests sent together (pipelined) are answered in order on one connection, and one
    /// that fails in the middle does not unmatch the answers after it.
    @Test(.timeLimit(.minutes(3)))
    func pipelinedRequestsAreAnsweredInOrder() async throws {
        let cluster = try TestCluster.start(1)
        defer { cluster.destroy() }
        let configuration = try cluster.datastoreConfiguration()
        let db = DqliteDatabase(configuration)
        defer { Task { await db.close() } }
        try await db.write { c in try await c.execute("CREATE TABLE p (k INTEGER PRIMARY KEY, v TEXT)") }

        let other = try await DqliteClient.connect(to: configuration.addresses[0], tls: configuration.tls)
        defer { other.close() }
        let o = try await other.open(configuration.database)

        // 200 queries in one go come back in the order they were sent.
        let answers = try await other.queryAll(db: o, (0..<200).map { SQLStatement("SELECT ?", [.integer(Int64($0))]) })
        #expect(answers.map { $0.first?.int(0) } == (0..<200).map { Int64($0) })

        // The second of three inserts breaks a constraint: its error is thrown, the third ran,
        // and the connection's next answer is its own.
        _ = try await other.exec(db: o, "BEGIN")
        await #expect(throws: DqliteError.self) {
            _ = try await other.execAll(db: o, [SQLStatement("INSERT INTO p VALUES (1, 'a')"), SQLStatement("INSERT INTO p VALUES (1, 'b')"),
                                            SQLStatement("INSERT INTO p VALUES (2, 'c')")])
        }
        #expect(try await other.query(db: o, "SELECT count(*) FROM p").first?.int(0) == 2)
        _ = try await other.exec(db: o, "ROLLBACK")

        // Pipelined writes inside a write transaction of the replicated database.
        let written = try await db.write { c in
            try await c.executeAll((10..<20).map { SQLStatement("INSERT INTO p VALUES (?, 'w')", [.integer(Int64($0))]) })
        }
        #expect(written.count == 10)
        #expect(try await db.read { c in try await c.queryFirst("SELECT count(*) FROM p")?.int(0) } == 10)
    }
}

