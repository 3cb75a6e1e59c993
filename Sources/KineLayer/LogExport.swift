import Storage

/// One entry of the log as an export sees it: a change at `(revision, sub)`.
public struct LogEntry: Sendable, Hashable {
    public var revision: Int64
    /// The change's place among the changes of its revision.
    public var sub: Int64
    public var isTombstone: Bool
    /// For a put: the key as it stood after it. For a tombstone: the key, and the deletion's revision.
    public var kv: KeyValue
}

/// A consistent copy of the whole log: its history rows, leases and revisions.
public struct LogExport: Sendable {
    public var currentRevision: Int64
    public var compactRevision: Int64
    public var leases: [Lease]
}

extension KineStore {
    /// Reads every retained change of the log in one snapshot, oldest first, handing them to
    /// `deliver` in pages; returns the revisions and leases of that same snapshot.
    public func export(pageSize: Int = 1024, deliver: ([LogEntry]) throws -> Void) async throws -> LogExport {
        try await database.read { c in
            let current = try await KineReader.currentRevision(c)
            let compacted = try await KineReader.compactRevision(c)
            var next: Int64 = 0
            while true {
                let rows = try await c.query(KineSQL.export, [.integer(next), .integer(Int64.max), .integer(Int64(pageSize))]).map { KineRow($0) }
                if rows.isEmpty { break }
                try deliver(rows.map { row in
                    LogEntry(revision: row.revision, sub: row.id & (RowID.maxChangesPerRevision - 1), isTombstone: row.deleted,
                             kv: row.keyValue ?? row.event.kv)
                })
                next = rows[rows.count - 1].id + 1
                if rows.count < pageSize { break }
            }
            let leases = try await c.query(KineSQL.allLeases).map { Lease(id: $0.int(0), ttl: $0.int(1), expiresAt: $0.int(2)) }
            return LogExport(currentRevision: current, compactRevision: compacted, leases: leases)
        }
    }
}
