import Storage

/// The result of a range read.
public struct ListResult: Sendable, Hashable {
    /// The store's current revision when the read was made.
    public var revision: Int64
    /// The live keys in key order, at most `limit` of them.
    public var kvs: [KeyValue]
    /// Whether more keys matched than `limit` allowed.
    public var more: Bool
    /// How many keys matched in all, when asked for.
    public var count: Int64?
}

/// Reads of the log: point gets, ranges, counts and history, each in one read transaction.
struct KineReader: Sendable {
    let db: any SQLDatabase

    /// The revision of the newest row ever written.
    func currentRevision() async throws -> Int64 {
        try await db.read { try await Self.currentRevision($0) }
    }

    /// The oldest revision that can still be read.
    func compactRevision() async throws -> Int64 {
        try await db.read { try await Self.compactRevision($0) }
    }

    /// How many revisions the newest is past the compacted one, in one read.
    func revisionsPastCompaction() async throws -> Int64 {
        try await db.read { c in try await Self.currentRevision(c) - Self.compactRevision(c) }
    }

    func get(_ key: [UInt8], revision: Int64) async throws -> (revision: Int64, kv: KeyValue?) {
        try await db.read { c in
            let current = try await Self.checkedRevision(c, requested: revision)
            let at = RowID.last(of: revision > 0 ? revision : current)
            let row = try await c.queryFirst(KineSQL.latestAt, [.blob(key), .integer(at)]).map { KineRow($0) }
            return (current, row?.keyValue)
        }
    }

    func list(_ range: KeyRange, revision: Int64, limit: Int, withCount: Bool) async throws -> ListResult {
        var query = RangeQuery(range: range)
        query.revision = revision
        query.limit = Int64(limit)
        query.uncounted = !withCount
        let (current, result) = try await self.range(query)
        return ListResult(revision: current, kvs: result.kvs, more: result.more, count: withCount ? result.count : nil)
    }

    func range(_ query: RangeQuery) async throws -> (revision: Int64, result: RangeResult) {
        try await db.read { c in
            let current = try await Self.checkedRevision(c, requested: query.revision)
            return (current, try await query.run(c, current: current))
        }
    }

    /// The live key `offset` keys past the first live key of `range` now, in key order, or
    /// `nil` if the range holds no more; read from the index alone, values untouched.
    func liveKey(in range: KeyRange, offset: Int) async throws -> [UInt8]? {
        try await db.read { c in
            let at = RowID.last(of: try await Self.currentRevision(c))
            let (condition, rangeParameters) = KineSQL.rangeCondition(range)
            return try await c.queryFirst(KineSQL.liveKeyAt(condition), rangeParameters + [.integer(at), .integer(Int64(offset))])?.bytes(0)
        }
    }

    func count(_ range: KeyRange, revision: Int64) async throws -> (revision: Int64, count: Int64) {
        try await db.read { c in
            let current = try await Self.checkedRevision(c, requested: revision)
            let at = RowID.last(of: revision > 0 ? revision : current)
            let (condition, rangeParameters) = KineSQL.rangeCondition(range)
            let n = try await c.queryFirst(KineSQL.count(condition), rangeParameters + [.integer(at)])?.int(0) ?? 0
            return (current, n)
        }
    }

    /// Changes to `range` with revisions in `[from, to]`, oldest first, read in pages of
    /// `pageSize` within one snapshot; each page is passed to `deliver`. Fails with
    /// ``KineError/compacted(compactRevision:requested:)`` if `from` is no longer readable.
    func history(_ range: KeyRange, from: Int64, to: Int64, pageSize: Int = 512, deliver: ([Event]) throws -> Void) async throws {
        try await db.read { c in
            let compact = try await Self.compactRevision(c)
            if from < compact { throw KineError.compacted(compactRevision: compact, requested: from) }
            let (condition, rangeParameters) = KineSQL.rangeCondition(range, column: "k.name")
            // Page by row id, so that a page boundary never splits the changes of one revision
            // from the ones after them.
            var next = RowID.first(of: from)
            let last = RowID.last(of: to)
            while next <= last {
                let rows = try await c.query(KineSQL.history(condition),
                                             rangeParameters + [.integer(next), .integer(last), .integer(Int64(pageSize))]).map(KineRow.init(event:))
                if rows.isEmpty { break }
                try deliver(rows.map(\.event))
                next = rows[rows.count - 1].id + 1
                if rows.count < pageSize { break }
            }
        }
    }

    /// Every change with a revision in `(after, through]`, oldest first.
    func window(after: Int64, through: Int64) async throws -> [Event] {
        try await db.read { c in
            try await c.query(KineSQL.window, [.integer(RowID.last(of: after)), .integer(RowID.last(of: through))]).map { KineRow(event: $0).event }
        }
    }

    // MARK: Within a transaction

    /// The newest revision. A new store is at revision 1, as a new etcd is (its first write
    /// makes revision 2): clients such as kube-apiserver refuse revision 0.
    static func currentRevision(_ c: any SQLConnection) async throws -> Int64 {
        revision(lastRowID: try await c.queryFirst(KineSQL.lastRowID))
    }

    /// The current revision, from the answer to ``KineSQL/lastRowID``.
    static func revision(lastRowID row: SQLRow?) -> Int64 {
        max(1, RowID.revision(row?.int(0) ?? 0))
    }

    static func compactRevision(_ c: any SQLConnection) async throws -> Int64 {
        try await c.queryFirst(KineSQL.compactRevision)?.int(0) ?? 0
    }

    /// The current revision, after checking that `requested` (0 = current) is readable.
    static func checkedRevision(_ c: any SQLConnection, requested: Int64) async throws -> Int64 {
        let current = try await currentRevision(c)
        guard requested > 0 else { return current }
        if requested > current { throw KineError.futureRevision(requested: requested, current: current) }
        let compact = try await compactRevision(c)
        if requested < compact { throw KineError.compacted(compactRevision: compact, requested: requested) }
        return current
    }
}
