import Foundation

/// A copy of a replicated database made over SQL into a new SQLite file, for when the node
/// cannot DUMP it: dqlite 1.11.1 refuses a dump (SQLITE_CORRUPT) while its in-memory main
/// file holds more pages than its header counts, which a VACUUM that shrank the database
/// can leave behind until the database grows again. Run inside one read transaction (so one
/// snapshot): the schema's tables, their rows page by page, the AUTOINCREMENT counters, then
/// the indexes, triggers and views.
enum DqliteSQLCopy {
    static let pageRows = 500

    static func copy(_ source: any SQLConnection, to path: String) async throws {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + "-wal")
        let target = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000)
        defer { target.closeNow() }
        let schema = try await source.query("""
            SELECT type, name, sql FROM sqlite_master
            WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
            ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid
            """, [])
        _ = try await target.execute("BEGIN", [])
        for entry in schema where entry[0].text == "table" {
            guard let name = entry[1].text, let sql = entry[2].text else { continue }
            _ = try await target.execute(sql, [])
            try await copyRows(of: name, withoutRowID: sql.uppercased().contains("WITHOUT ROWID"), from: source, to: target)
        }
        // The AUTOINCREMENT counters (the table exists once such a table was created).
        if try await source.queryFirst("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'") != nil {
            // The inserts above set them to the largest ids copied; the source's may be higher.
            _ = try await target.execute("DELETE FROM sqlite_sequence", [])
            for row in try await source.query("SELECT name, seq FROM sqlite_sequence", []) {
                _ = try await target.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", row.values)
            }
        }
        for entry in schema where entry[0].text != "table" {
            if let sql = entry[2].text { _ = try await target.execute(sql, []) }
        }
        _ = try await target.execute("COMMIT", [])
    }

    private static func copyRows(of table: String, withoutRowID: Bool, from source: any SQLConnection,
                                 to target: SQLiteConnection) async throws {
        let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let columns = try await source.query("PRAGMA table_info(\(quoted))", []).compactMap { $0[1].text }
        guard !columns.isEmpty else { return }
        let names = columns.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ", ")
        let insert = "INSERT INTO \(quoted) (\(names)) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        var lastRowID: Int64 = .min
        var offset = 0
        while true {
            let page: [SQLRow]
            if withoutRowID {
                page = try await source.query("SELECT \(names) FROM \(quoted) LIMIT \(pageRows) OFFSET \(offset)", [])
                offset += page.count
            } else {
                page = try await source.query("SELECT rowid, \(names) FROM \(quoted) WHERE rowid > ? ORDER BY rowid LIMIT \(pageRows)",
                                              [.integer(lastRowID)])
                lastRowID = page.last?.int(0) ?? lastRowID
            }
            for row in page {
                _ = try await target.execute(insert, withoutRowID ? row.values : Array(row.values.dropFirst()))
            }
            if page.count < pageRows { return }
        }
    }
}
