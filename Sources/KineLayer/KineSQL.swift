import Storage

/// Every SQL statement of the key-value log, in one place. The dialect is SQLite's, which
/// both the embedded and the dqlite backend speak.
///
/// The log is one append-only table: each row is one change of one key. Its `id` packs the
/// change's revision and sub-revision (``RowID``); `create_revision` is a revision. Deletes
/// append tombstones (`deleted = 1`). `prev_id` is the id of the key's previous row, which
/// is what compaction follows to find superseded rows, and what a change's previous value is
/// read through. Parameters named "revision" below are revisions; those compared with `id`
/// are row ids.
///
/// `old_value` is no longer written or read: files written before held each change's previous
/// value in it, a second copy of the previous row's value. Events now join the previous row
/// instead (``eventColumns``), so an update or delete writes the key's value at most once.
enum KineSQL {
    /// The columns every row query selects and every insert writes, in ``KineRow``'s order.
    static let columns = "id, name, created, deleted, create_revision, prev_id, lease, value, version"
    static let columnCount = 9

    /// A change's row (`k`) and its previous row's id, value and lease (`p`), for events
    /// with a previous key-value; the previous row's columns are NULL when it has been
    /// compacted away, and for a row that created its key.
    static let eventColumns = prefixed("k") + ", p.id, p.value, p.lease"
    static let previousRowJoin = "LEFT JOIN kine p ON p.id = k.prev_id AND k.created = 0"

    // MARK: Revisions

    /// The largest row id ever used (its revision is the current revision): the table's
    /// AUTOINCREMENT counter, which compaction cannot lower, and the largest id present, in
    /// case a torn commit ever left the counter behind the rows (then every new revision
    /// would collide with a row). Both are single index lookups.
    static let lastRowID = """
        SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'kine'), 0), COALESCE((SELECT MAX(id) FROM kine), 0))
        """
    static let compactRevision = "SELECT value FROM kine_meta WHERE name = 'compact_revision'"
    static let setCompactRevision = "UPDATE kine_meta SET value = ? WHERE name = 'compact_revision'"
    /// How far compaction has actually removed rows (it may lag the compact revision after a crash).
    static let compactProgress = "SELECT value FROM kine_meta WHERE name = 'compact_progress'"
    static let setCompactProgress = "UPDATE kine_meta SET value = ? WHERE name = 'compact_progress'"

    // MARK: Reads

    /// The key's newest row at or below a row id (parameters: key, row id).
    static let latestAt = "SELECT \(columns) FROM kine WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1"

    /// The newest rows of `count` keys (parameters: the keys). One index seek per key: a
    /// correlated `MAX` per name, not a `GROUP BY` that would scan each key's whole history.
    static func latestOf(count: Int) -> String {
        let values = Array(repeating: "(?)", count: count).joined(separator: ", ")
        return """
            WITH n(name) AS (VALUES \(values))
            SELECT \(columns) FROM kine WHERE id IN (SELECT (SELECT MAX(k.id) FROM kine k WHERE k.name = n.name) FROM n)
            """
    }

    /// The `[lower, upper)` condition on `name` for a range, and its parameters.
    /// `column` names the key column, qualified where a query joins two rows.
    static func rangeCondition(_ range: KeyRange, column: String = "name") -> (sql: String, parameters: [SQLValue]) {
        switch range.end {
        case .single: return ("\(column) = ?", [.blob(range.start)])
        case .unbounded: return ("\(column) >= ?", [.blob(range.start)])
        case .before(let end): return ("\(column) >= ? AND \(column) < ?", [.blob(range.start), .blob(end)])
        }
    }

    /// Live keys of a range at a row id, in key order (parameters: range, row id, limit).
    ///
    /// The newest row id of each key comes from the `(name, id)` index, grouped in key order,
    /// and `CROSS JOIN` keeps that scan the outer loop, so the rows stream out in key order:
    /// no temporary B-tree holds the whole range (values included) to sort it, and a `LIMIT`
    /// stops the scan early. SQL does not promise that order, though; ``listSorted(_:)`` is
    /// the same query with an `ORDER BY`, for the case that it ever comes out otherwise.
    ///
    /// `deleted` beside `MAX(id)` is the deleted flag of the row with that id (SQLite takes a
    /// bare column from the row that holds the maximum), read from the index: keys whose
    /// newest row is a tombstone are skipped without reading that row.
    static func list(_ condition: String) -> String {
        """
        SELECT \(prefixed("k")) FROM (SELECT MAX(id) AS mid, deleted FROM kine WHERE \(condition) AND id <= ? GROUP BY name) m
        CROSS JOIN kine k ON k.id = m.mid WHERE m.deleted = 0 LIMIT ?
        """
    }

    /// ``list(_:)`` sorted by SQL (parameters: range, row id, limit).
    static func listSorted(_ condition: String) -> String {
        """
        SELECT \(prefixed("k")) FROM (SELECT MAX(id) AS mid FROM kine WHERE \(condition) AND id <= ? GROUP BY name) m
        JOIN kine k ON k.id = m.mid WHERE k.deleted = 0 ORDER BY k.name LIMIT ?
        """
    }

    /// How many live keys a range holds at a row id (parameters: range, row id).
    /// Only the index is read (see ``list(_:)`` for the bare `deleted` column).
    static func count(_ condition: String) -> String {
        """
        SELECT COUNT(*) FROM (SELECT MAX(id) AS mid, deleted FROM kine WHERE \(condition) AND id <= ? GROUP BY name) m
        WHERE m.deleted = 0
        """
    }

    /// The live key `offset` keys past the first live key of a range at a row id, in key
    /// order (parameters: range, row id, offset). Only the index is read (see ``list(_:)``
    /// for the bare `deleted` column).
    static func liveKeyAt(_ condition: String) -> String {
        """
        SELECT m.name FROM (SELECT name, MAX(id) AS mid, deleted FROM kine WHERE \(condition) AND id <= ? GROUP BY name) m
        WHERE m.deleted = 0 ORDER BY m.name LIMIT 1 OFFSET ?
        """
    }

    /// Rows of a range with ids in `[from, to]`, oldest first, as ``eventColumns`` (parameters:
    /// range on `k.name`, from, to, limit).
    static func history(_ condition: String) -> String {
        """
        SELECT \(eventColumns) FROM kine k \(previousRowJoin)
        WHERE \(condition) AND k.id >= ? AND k.id <= ? ORDER BY k.id LIMIT ?
        """
    }

    /// All rows with ids in `(after, through]`, oldest first (parameters: after, through).
    static let window = "SELECT \(eventColumns) FROM kine k \(previousRowJoin) WHERE k.id > ? AND k.id <= ? ORDER BY k.id"

    /// Every row with an id in `[from, to]`, in id order, at most `limit` (parameters: from, to, limit).
    static let export = "SELECT \(columns) FROM kine WHERE id >= ? AND id <= ? ORDER BY id LIMIT ?"

    /// The live keys attached to a lease (parameter: lease).
    static let keysOfLease = """
        SELECT \(prefixed("k")) FROM kine k WHERE k.lease = ? AND k.deleted = 0
        AND k.id = (SELECT MAX(id) FROM kine WHERE name = k.name)
        """

    // MARK: Writes

    /// Inserts `rows` log rows (parameters: ``columnCount`` values per row).
    static func insert(rows: Int) -> String {
        let row = "(" + placeholders(columnCount) + ")"
        return "INSERT INTO kine (\(columns)) VALUES " + Array(repeating: row, count: rows).joined(separator: ", ")
    }

    /// A transaction inside a batch runs under a savepoint, so that it can fail alone.
    static let savepoint = "SAVEPOINT kine_txn"
    static let releaseSavepoint = "RELEASE kine_txn"
    static let rollbackToSavepoint = "ROLLBACK TO kine_txn"

    // MARK: Compaction

    /// Deletes rows superseded by a row with id in `(from, to]` (parameters: row ids from, to).
    static let deleteSuperseded = """
        DELETE FROM kine WHERE id IN (SELECT prev_id FROM kine WHERE id > ? AND id <= ? AND prev_id != 0)
        """
    /// Deletes tombstones with ids in `[from, to]` below the target's first id (parameters: row ids).
    static let deleteTombstones = "DELETE FROM kine WHERE deleted = 1 AND id >= ? AND id <= ? AND id < ?"

    // MARK: Leases

    static let insertLease = "INSERT INTO kine_lease (id, ttl, expires_at) VALUES (?, ?, ?)"
    static let renewLease = "UPDATE kine_lease SET expires_at = ? WHERE id = ?"
    static let deleteLease = "DELETE FROM kine_lease WHERE id = ?"
    static let lease = "SELECT id, ttl, expires_at FROM kine_lease WHERE id = ?"
    static let allLeases = "SELECT id, ttl, expires_at FROM kine_lease ORDER BY id"
    static let expiredLeases = "SELECT id FROM kine_lease WHERE expires_at <= ? ORDER BY expires_at LIMIT 256"
    static func existingLeases(count: Int) -> String {
        "SELECT id FROM kine_lease WHERE id IN (\(placeholders(count)))"
    }
    /// Gives every lease at least its full TTL from now (parameter: now in ms), as etcd does
    /// when a new leader takes over the leases.
    static let refreshLeases = "UPDATE kine_lease SET expires_at = MAX(expires_at, ? + ttl * 1000)"

    // MARK: Helpers

    static func placeholders(_ n: Int) -> String {
        Array(repeating: "?", count: n).joined(separator: ", ")
    }

    private static func prefixed(_ alias: String) -> String {
        columns.split(separator: ", ").map { "\(alias).\($0)" }.joined(separator: ", ")
    }
}
