import Storage

/// The log's tables and their migrations. `kine_meta.schema_version` says which migrations a
/// file has had; opening a store runs the ones it lacks, each step once, in the same write
/// transaction as the tables' creation, and refuses a file from a newer Skiff.
enum KineSchema {
    /// What every version starts from (version 1): the tables, created if missing.
    static let base = [
        """
        CREATE TABLE IF NOT EXISTS kine (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name BLOB NOT NULL,
            created INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            create_revision INTEGER NOT NULL,
            prev_id INTEGER NOT NULL,
            lease INTEGER NOT NULL,
            value BLOB,
            old_value BLOB,
            version INTEGER NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS kine_lease_key ON kine (lease) WHERE lease != 0",
        "CREATE TABLE IF NOT EXISTS kine_lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, expires_at INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS kine_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT OR IGNORE INTO kine_meta (name, value) VALUES ('compact_revision', 0)",
        "INSERT OR IGNORE INTO kine_meta (name, value) VALUES ('compact_progress', 0)",
    ]

    /// One step from the version before it.
    struct Migration: Sendable {
        let version: Int64
        let what: String
        let statements: [String]
    }

    /// The steps, in order. A step's statements are idempotent (files made before versions
    /// were counted may have had some of them).
    static let migrations = [
        Migration(version: 2, what: "each key's history indexed with whether each change deleted it", statements: [
            // Ranges and counts tell live keys from deleted ones without reading rows; the
            // index without `deleted` it replaces goes.
            "CREATE INDEX IF NOT EXISTS kine_name_id_deleted ON kine (name, id, deleted)",
            "DROP INDEX IF EXISTS kine_name_id",
        ]),
    ]

    /// The version this build writes.
    static var current: Int64 { migrations.last?.version ?? 1 }

    /// Creates the tables if missing and brings the file to ``current``; returns the
    /// versions it was at and is at now. Throws for a file of a newer version.
    @discardableResult
    static func prepare(_ c: any SQLConnection) async throws -> (from: Int64, to: Int64) {
        for statement in base { try await c.execute(statement) }
        // A new file starts at version 1 and takes every step, as an old one does.
        try await c.execute("INSERT OR IGNORE INTO kine_meta (name, value) VALUES ('schema_version', 1)")
        let from = try await c.queryFirst("SELECT value FROM kine_meta WHERE name = 'schema_version'")?.int(0) ?? 1
        guard from <= current else {
            throw KineError.storageFailed("the data was written by a newer Skiff (schema version \(from); this build knows versions up to \(current)); run that version or newer")
        }
        for migration in migrations where migration.version > from {
            for statement in migration.statements { try await c.execute(statement) }
            try await c.execute("UPDATE kine_meta SET value = ? WHERE name = 'schema_version'", [.integer(migration.version)])
        }
        return (from, current)
    }
}
