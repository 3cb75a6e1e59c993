import Storage

/// Removes history that is no longer needed: rows superseded before the target revision,
/// and tombstones older than it. The state at every revision from the target on stays
/// readable, and so does every change from the target on (watchers can start there), with
/// its previous key-value: the rows the target's own changes replaced are kept, because a
/// change's previous value is read from the row it replaced. The next compaction removes them.
///
/// The compact revision is raised first, so reads below it fail at once; rows are then removed
/// in windows of revisions, each in its own short transaction, so writers are never held up
/// for long. Progress is recorded per window: a compaction cut short by a crash is finished
/// by the next one. Compactions do not overlap.
actor Compactor {
    private let db: any SQLDatabase
    /// Revisions handled per transaction.
    private let window: Int64

    init(db: any SQLDatabase, window: Int64 = 2_000) {
        self.db = db
        self.window = window
    }

    /// Compacts up to `revision`; returns the number of rows removed.
    /// Fails if `revision` is already compacted or newer than the current revision.
    @discardableResult
    func compact(to revision: Int64) async throws -> Int64 {
        let (current, compacted) = try await db.read { c in
            (try await KineReader.currentRevision(c), try await KineReader.compactRevision(c))
        }
        if revision <= compacted { throw KineError.compacted(compactRevision: compacted, requested: revision) }
        if revision > current { throw KineError.futureRevision(requested: revision, current: current) }

        var from = try await db.write { c in
            try await c.execute(KineSQL.setCompactRevision, [.integer(revision)])
            return try await c.queryFirst(KineSQL.compactProgress)?.int(0) ?? 0
        }
        var removed: Int64 = 0
        // Rows replaced at the target itself are still some change's previous value.
        let last = revision - 1
        while from < last {
            let to = min(from + window, last)
            removed += try await db.write { c in
                let superseded = try await c.execute(KineSQL.deleteSuperseded, [.integer(RowID.last(of: from)), .integer(RowID.last(of: to))])
                let tombstones = try await c.execute(KineSQL.deleteTombstones, [
                    .integer(RowID.first(of: from)), .integer(RowID.last(of: to)), .integer(RowID.first(of: revision)),
                ])
                try await c.execute(KineSQL.setCompactProgress, [.integer(to)])
                return superseded.rowsAffected + tombstones.rowsAffected
            }
            from = to
        }
        return removed
    }
}
