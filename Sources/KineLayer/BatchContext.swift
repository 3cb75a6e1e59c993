import Storage

/// The state of one batch while it is applied inside its SQL transaction: the revision
/// reached, each touched key's newest row, the leases known to exist, and the rows written
/// so far (inserted into SQL lazily, in multi-row statements).
final class BatchContext {
    /// The state of one key.
    struct KeyState {
        /// The key's live value, or `nil` when absent.
        var current: KeyValue?
        /// The id of the key's newest row (a tombstone counts), 0 if it never existed.
        var lastRow: Int64
    }

    let c: any SQLConnection
    let parameterLimit: Int
    /// The newest revision, including the batch's own changes.
    var revision: Int64
    var states: [HashedKey: KeyState] = [:]
    var liveLeases = Set<Int64>()
    var revokedLeases = Set<Int64>()
    /// Every row the batch wrote, in order; the first `flushed` are in SQL already.
    private(set) var rows: [KineRow] = []
    private var flushed = 0

    private init(c: any SQLConnection, parameterLimit: Int, revision: Int64) {
        self.c = c
        self.parameterLimit = parameterLimit
        self.revision = revision
    }

    /// Reads what the simple requests of a batch need in a few multi-key queries, sent
    /// together (one round trip to a replicated database): the current revision, the newest
    /// row of every key they touch (and of the keys attached to leases they revoke) and which
    /// of their leases exist.
    static func load(for requests: [WriteRequest], on c: any SQLConnection, parameterLimit: Int) async throws -> BatchContext {
        var keys = Set<HashedKey>()
        var leaseIDs = Set<Int64>()
        var revokedLeases: [Int64] = []
        for request in requests {
            switch request {
            case .operation(let op):
                keys.insert(HashedKey(op.key))
                if case .put(_, let lease) = op.action, lease != 0 { leaseIDs.insert(lease) }
            case .revokeLease(let id, _):
                leaseIDs.insert(id)
                revokedLeases.append(id)
            case .txn(let txn):
                txn.collectKeys(into: &keys, leases: &leaseIDs)
            }
        }
        if !revokedLeases.isEmpty {
            let attached = try await c.queryAll(revokedLeases.map { SQLStatement(KineSQL.keysOfLease, [.integer($0)]) })
            for row in attached.joined() { keys.insert(HashedKey(KineRow(row).name)) }
        }
        let keyChunks = keys.map(\.bytes).chunked(parameterLimit)
        let leaseChunks = Array(leaseIDs).chunked(parameterLimit)
        let answers = try await c.queryAll(
            [SQLStatement(KineSQL.lastRowID)]
            + keyChunks.map { SQLStatement(KineSQL.latestOf(count: $0.count), $0.map { .blob($0) }) }
            + leaseChunks.map { SQLStatement(KineSQL.existingLeases(count: $0.count), $0.map { .integer($0) }) })
        let batch = BatchContext(c: c, parameterLimit: parameterLimit, revision: KineReader.revision(lastRowID: answers[0].first))
        for row in answers[1..<(1 + keyChunks.count)].joined() { batch.remember(KineRow(row)) }
        for row in answers[(1 + keyChunks.count)...].joined() { batch.liveLeases.insert(row.int(0)) }
        return batch
    }

    private func loadStates(_ keys: [[UInt8]]) async throws {
        let answers = try await c.queryAll(keys.chunked(parameterLimit).map { chunk in
            SQLStatement(KineSQL.latestOf(count: chunk.count), chunk.map { .blob($0) })
        })
        for row in answers.joined() { remember(KineRow(row)) }
    }

    /// Records a row read from SQL as its key's newest.
    private func remember(_ r: KineRow) {
        states[HashedKey(r.name)] = KeyState(current: r.keyValue, lastRow: r.id)
    }

    // MARK: Rows

    /// Records a row and makes it the key's newest.
    func append(_ row: KineRow) {
        rows.append(row)
        states[HashedKey(row.name)] = KeyState(current: row.keyValue, lastRow: row.id)
    }

    /// Inserts the rows not yet in SQL.
    func flush() async throws {
        try await flush(upTo: rows.count)
    }

    /// Inserts the rows before `count` that are not yet in SQL (the rows of the batch up to
    /// a transaction's start).
    func flush(upTo count: Int) async throws {
        guard flushed < count else { return }
        let pending = Array(rows[flushed..<count])
        let rowsPerStatement = max(1, parameterLimit / KineSQL.columnCount)
        try await c.executeAll(pending.chunked(rowsPerStatement).map { chunk in
            SQLStatement(KineSQL.insert(rows: chunk.count), chunk.flatMap(\.parameters))
        })
        flushed = count
    }

    /// Forgets rows written after the first `count` (their SQL inserts are rolled back by the caller).
    func truncate(to count: Int) {
        rows.removeLast(rows.count - count)
        flushed = min(flushed, count)
    }

    // MARK: Reads inside the batch

    /// A key's state, reading it from SQL if the batch has not seen it yet.
    func state(of key: [UInt8]) async throws -> KeyState {
        let hashed = HashedKey(key)
        if let known = states[hashed] { return known }
        try await loadStates([key])
        return states[hashed] ?? KeyState(current: nil, lastRow: 0)
    }

    /// Whether a lease exists, as the batch has left it.
    func leaseExists(_ id: Int64) async throws -> Bool {
        if revokedLeases.contains(id) { return false }
        if liveLeases.contains(id) { return true }
        let found = try await c.queryFirst(KineSQL.existingLeases(count: 1), [.integer(id)]) != nil
        if found { liveLeases.insert(id) }
        return found
    }

    // MARK: Row construction

    /// The row that sets `key` to `value` with `lease`.
    static func putRow(_ key: [UInt8], _ value: [UInt8], lease: Int64, id: Int64, _ state: KeyState) -> KineRow {
        let current = state.current
        return KineRow(id: id, name: key, created: current == nil, deleted: false,
                       createRevision: current?.createRevision ?? RowID.revision(id), prevID: state.lastRow, lease: lease,
                       value: value, version: (current?.version ?? 0) + 1,
                       previous: current.map { KineRow.Previous(value: $0.value, lease: $0.lease) })
    }

    /// The tombstone of a live key.
    static func tombstone(_ kv: KeyValue, id: Int64, lastRow: Int64) -> KineRow {
        KineRow(id: id, name: kv.key, created: false, deleted: true, createRevision: kv.createRevision,
                prevID: lastRow, lease: 0, value: [], version: kv.version,
                previous: KineRow.Previous(value: kv.value, lease: kv.lease))
    }
}
