import Storage

/// A read of a range of keys with etcd's options.
public struct RangeQuery: Sendable, Hashable {
    public enum SortOrder: Sendable, Hashable { case none, ascending, descending }
    public enum SortTarget: Sendable, Hashable { case key, version, createRevision, modRevision, value }

    public var range: KeyRange
    /// The revision to read at; 0 = the current one.
    public var revision: Int64 = 0
    /// The most keys to return; 0 = no limit.
    public var limit: Int64 = 0
    public var sortOrder: SortOrder = .none
    public var sortTarget: SortTarget = .key
    /// Return keys without values.
    public var keysOnly = false
    /// Return only the count.
    public var countOnly = false
    /// The caller does not want the range's count: a limited read that found more does not
    /// count the rest (the result's count is then only that of the rows read).
    public var uncounted = false
    /// Filters on the keys' revisions; 0 = no bound.
    public var minModRevision: Int64 = 0
    public var maxModRevision: Int64 = 0
    public var minCreateRevision: Int64 = 0
    public var maxCreateRevision: Int64 = 0

    public init(range: KeyRange) {
        self.range = range
    }

    /// Whether key order with a SQL limit answers the query (no reordering or filtering).
    var isPlainKeyOrder: Bool {
        (sortTarget == .key && sortOrder != .descending)
            && minModRevision == 0 && maxModRevision == 0 && minCreateRevision == 0 && maxCreateRevision == 0
    }

    /// Whether the query reads one key as it is now, with no revision filter: a batch can
    /// answer it from its key states.
    var isSingleKeyNow: Bool {
        range.end == .single && revision == 0 && minModRevision == 0 && maxModRevision == 0
            && minCreateRevision == 0 && maxCreateRevision == 0
    }

    /// The answer to a single-key query whose key holds `kvs` (none or one).
    func result(of kvs: [KeyValue]) -> RangeResult {
        let count = Int64(kvs.count)
        if countOnly { return RangeResult(kvs: [], more: false, count: count) }
        let shown = keysOnly ? kvs.map { var kv = $0; kv.value = []; return kv } : kvs
        return RangeResult(kvs: shown, more: false, count: count)
    }

    /// The row of every live key of `range` at `revision`, in key order, at most `limit`
    /// (-1: all): each is its key's newest row then (what a delete of the range supersedes).
    static func liveRows(of range: KeyRange, _ c: any SQLConnection, at revision: Int64, limit: Int64 = -1) async throws -> [KineRow] {
        let (condition, parameters) = KineSQL.rangeCondition(range)
        let all = parameters + [.integer(RowID.last(of: revision)), .integer(limit)]
        let rows = try await c.query(KineSQL.list(condition), all).map { KineRow($0) }
        if inKeyOrder(rows) { return rows }
        // The plan that streams in key order was not chosen: let SQL sort (a limited read
        // must take the first keys, so sorting what came back would not do).
        return try await c.query(KineSQL.listSorted(condition), all).map { KineRow($0) }
    }

    /// Whether each row's key is greater than the one before it.
    static func inKeyOrder(_ rows: [KineRow]) -> Bool {
        zip(rows, rows.dropFirst()).allSatisfy { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Runs the query inside a transaction whose newest revision is `current`.
    /// The count is that of the whole range (before the limit and the filters); it costs a
    /// `COUNT` query only when the rows read do not tell it (a limited plain read that found more).
    func run(_ c: any SQLConnection, current: Int64) async throws -> RangeResult {
        let readRevision = revision > 0 ? revision : current
        let (condition, parameters) = KineSQL.rangeCondition(range)
        func countAll() async throws -> Int64 {
            try await c.queryFirst(KineSQL.count(condition), parameters + [.integer(RowID.last(of: readRevision))])?.int(0) ?? 0
        }
        if countOnly { return RangeResult(kvs: [], more: false, count: try await countAll()) }

        // A plain read asks SQL for one row past the limit, to know whether there are more.
        // (A limit past any count of rows is no limit: `limit + 1` must not overflow.)
        let sqlLimit: Int64 = (isPlainKeyOrder && limit > 0 && limit < Int64.max) ? limit + 1 : -1
        var kvs = try await Self.liveRows(of: range, c, at: readRevision, limit: sqlLimit).compactMap(\.keyValue)
        let total = (sqlLimit > 0 && kvs.count > limit && !uncounted) ? try await countAll() : Int64(kvs.count)
        kvs = kvs.filter { kv in
            (minModRevision == 0 || kv.modRevision >= minModRevision)
                && (maxModRevision == 0 || kv.modRevision <= maxModRevision)
                && (minCreateRevision == 0 || kv.createRevision >= minCreateRevision)
                && (maxCreateRevision == 0 || kv.createRevision <= maxCreateRevision)
        }
        if !isPlainKeyOrder { sort(&kvs) }
        let more = limit > 0 && kvs.count > limit
        if more { kvs.removeLast(kvs.count - Int(limit)) }
        if keysOnly { kvs = kvs.map { var kv = $0; kv.value = []; return kv } }
        return RangeResult(kvs: kvs, more: more, count: total)
    }

    private func sort(_ kvs: inout [KeyValue]) {
        // etcd: a sort target without an order means ascending; key order is the SQL order.
        let descending = sortOrder == .descending
        guard sortOrder != .none || sortTarget != .key else { return }
        func before(_ a: KeyValue, _ b: KeyValue) -> Bool {
            switch sortTarget {
            case .key: return a.key.lexicographicallyPrecedes(b.key)
            case .version: return a.version < b.version
            case .createRevision: return a.createRevision < b.createRevision
            case .modRevision: return a.modRevision < b.modRevision
            case .value: return a.value.lexicographicallyPrecedes(b.value)
            }
        }
        // Stable, so that ties keep key order.
        let indexed = kvs.enumerated().sorted { x, y in
            if before(x.element, y.element) { return !descending }
            if before(y.element, x.element) { return descending }
            return x.offset < y.offset
        }
        kvs = indexed.map(\.element)
    }
}

/// What a ``RangeQuery`` found.
public struct RangeResult: Sendable, Hashable {
    public var kvs: [KeyValue]
    /// Whether keys were left out because of the limit.
    public var more: Bool
    /// How many keys the range holds (before the limit).
    public var count: Int64
}
