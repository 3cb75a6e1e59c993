import Foundation
@testable import KineLayer
import Storage
import Testing
import TestSupport

/// `kine_meta.schema_version` drives the log's migrations: a file of an older version is
/// brought forward once, with its data; a file of a newer version is refused.
@Suite(.timeLimit(.minutes(5)))
struct SchemaMigrationTests {
    /// Runs `sql` on the file in `dir` with the store closed; returns the rows.
    static func sql(_ dir: TemporaryDirectory, _ statements: [String], query: String? = nil) async throws -> [SQLRow] {
        let db = try SQLiteDatabase(SQLiteConfiguration(path: dir.path + "/kine.db"))
        do {
            try await db.write { c in for statement in statements { try await c.execute(statement) } }
            var rows: [SQLRow] = []
            if let query { rows = try await db.read { c in try await c.query(query) } }
            await db.close()
            return rows
        } catch {
            await db.close()
            throw error
        }
    }

    static let indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kine' ORDER BY name"
    static let version = "SELECT value FROM kine_meta WHERE name = 'schema_version'"

    @Test func aNewFileIsAtTheCurrentVersion() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try await KineStore.open(directory: dir.path, options: testOptions())
        await store.close()
        #expect(try await Self.sql(dir, [], query: Self.version).first?.int(0) == KineSchema.current)
        #expect(KineSchema.current >= 2)
    }

    @Test func anOlderFileIsMigratedWithItsData() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var store = try await KineStore.open(directory: dir.path, options: testOptions())
        let kv = try await store.create(.k("/kept/a"), value: .k("1"))
        _ = try await store.delete(.k("/kept/a"))
        let live = try await store.create(.k("/kept/b"), value: .k("2"))
        await store.close()
        // What version 1 had: the history index without `deleted`.
        _ = try await Self.sql(dir, ["DROP INDEX kine_name_id_deleted", "CREATE INDEX kine_name_id ON kine (name, id)",
                                     "UPDATE kine_meta SET value = 1 WHERE name = 'schema_version'"])
        #expect(try await Self.sql(dir, [], query: Self.indexes).compactMap { $0[0].text }.contains("kine_name_id"))

        store = try await KineStore.open(directory: dir.path, options: testOptions())
        #expect(try await store.get(.k("/kept/b")).kv == live)
        #expect(try await store.get(.k("/kept/a")).kv == nil, "the deleted key stays deleted")
        #expect(try await store.count(.prefix(.k("/kept/"))).count == 1)
        #expect(try await store.get(.k("/kept/a"), revision: kv.modRevision).kv == kv, "history is kept")
        await store.close()
        let indexes = try await Self.sql(dir, [], query: Self.indexes).compactMap { $0[0].text }
        #expect(indexes.contains("kine_name_id_deleted"))
        #expect(!indexes.contains("kine_name_id"))
        #expect(try await Self.sql(dir, [], query: Self.version).first?.int(0) == KineSchema.current)
    }

    @Test func aNewerFileIsRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try await KineStore.open(directory: dir.path, options: testOptions())
        _ = try await store.create(.k("/x"), value: .k("1"))
        await store.close()
        _ = try await Self.sql(dir, ["UPDATE kine_meta SET value = 99 WHERE name = 'schema_version'"])
        await #expect { _ = try await KineStore.open(directory: dir.path, options: testOptions()) } throws: {
            "\($0)".contains("newer Skiff") && "\($0)".contains("schema version 99")
        }
        #expect(try await Self.sql(dir, [], query: "SELECT count(*) FROM kine").first?.int(0) ?? 0 > 0, "nothing was lost")
    }
}
