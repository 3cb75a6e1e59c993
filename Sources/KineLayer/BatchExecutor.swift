import Storage

/// Applies a batch of write requests in one SQL transaction.
///
/// Each request's precondition is checked against the state left by the requests before it
/// in the batch, so a batch is equivalent to running its requests one after another; a
/// failed precondition fails only its own request. Revisions are assigned here, one per
/// change, continuing from the log's current revision.
struct BatchExecutor: Sendable {
    let db: any SQLDatabase

    /// The state of one key while the batch is applied.
    private struct KeyState {
        /// The key's live value, or `nil` when absent.
        var current: KeyValue?
        /// The id of the key's newest row (a tombstone counts), 0 if it never existed.
        var lastRow: Int64
    }

    struct Outcome: Sendable {
        var results: [Result<WriteResult, KineError>]
        /// The changes the batch made, in revision order.
        var events: [Event]
    }

    func execute(_ requests: [WriteRequest]) async throws -> Outcome {
        try await db.write { c in try await apply(requests, c) }
    }

    private func apply(_ requests: [WriteRequest], _ c: any SQLConnection) async throws -> Outcome {
        var revision = try await KineReader.currentRevision(c)
        let parameterLimit = min(db.maxParametersPerStatement, 255)

        // Keys the batch touches: those of the operations, and those attached to leases it revokes.
        var keys = Set<[UInt8]>()
        var leaseIDs = Set<Int64>()
        for request in requests {
            switch request {
            case .operation(let op):
                keys.insert(op.key)
                if case .put(_, let lease) = op.action, lease != 0 { leaseIDs.insert(lease) }
            case .revokeLease(let id, _):
                leaseIDs.insert(id)
                for row in try await c.query(KineSQL.keysOfLease, [.integer(id)]) { keys.insert(KineRow(row).name) }
            }
        }

        var states: [[UInt8]: KeyState] = [:]
        for chunk in Array(keys).chunked(parameterLimit) {
            for row in try await c.query(KineSQL.latestOf(count: chunk.count), chunk.map { .blob($0) }) {
                let r = KineRow(row)
                states[r.name] = KeyState(current: r.keyValue, lastRow: r.id)
            }
        }
        var liveLeases = Set<Int64>()
        for chunk in Array(leaseIDs).chunked(parameterLimit) {
            for row in try await c.query(KineSQL.existingLeases(count: chunk.count), chunk.map { .integer($0) }) {
                liveLeases.insert(row.int(0))
            }
        }

        var rows: [KineRow] = []
        var results: [Result<WriteResult, KineError>] = []
        results.reserveCapacity(requests.count)

        func append(_ row: KineRow) {
            rows.append(row)
            states[row.name] = KeyState(current: row.keyValue, lastRow: row.id)
        }

        for request in requests {
            switch request {
            case .operation(let op):
                let state = states[op.key] ?? KeyState(current: nil, lastRow: 0)
                if let failure = Self.check(op, state.current, liveLeases) {
                    results.append(.failure(failure))
                    continue
                }
                revision += 1
                let row = Self.row(for: op, id: RowID.make(revision: revision, sub: 0), state.current, lastRow: state.lastRow)
                append(row)
                results.append(.success(WriteResult(revision: revision, kv: row.keyValue, previous: state.current)))

            case .revokeLease(let id, let expiredBy):
                guard liveLeases.contains(id) else {
                    results.append(.failure(.leaseNotFound(id: id)))
                    continue
                }
                if let expiredBy, let expiry = try await c.queryFirst(KineSQL.lease, [.integer(id)])?.int(2), expiry > expiredBy {
                    results.append(.success(WriteResult(revision: revision, kv: nil, previous: nil)))
                    continue
                }
                liveLeases.remove(id)
                let attached = states.values.filter { $0.current?.lease == id }.sorted { $0.current!.key.lexicographicallyPrecedes($1.current!.key) }
                for state in attached {
                    revision += 1
                    append(Self.tombstone(of: state.current!, id: RowID.make(revision: revision, sub: 0), lastRow: state.lastRow))
                }
                try await c.execute(KineSQL.deleteLease, [.integer(id)])
                results.append(.success(WriteResult(revision: revision, kv: nil, previous: nil)))
            }
        }

        let rowsPerStatement = max(1, parameterLimit / KineSQL.columnCount)
        for chunk in rows.chunked(rowsPerStatement) {
            try await c.execute(KineSQL.insert(rows: chunk.count), chunk.flatMap(\.parameters))
        }
        return Outcome(results: results, events: rows.map(\.event))
    }

    /// Why `op` may not run against the key's current value, or `nil` if it may.
    private static func check(_ op: WriteOperation, _ current: KeyValue?, _ leases: Set<Int64>) -> KineError? {
        switch op.precondition {
        case .none:
            break
        case .absent:
            if let current { return .keyExists(current: current) }
        case .modRevision(let expected):
            guard let current else { return .notFound(key: op.key) }
            if current.modRevision != expected { return .conflict(current: current) }
        }
        switch op.action {
        case .delete:
            if current == nil { return .notFound(key: op.key) }
        case .put(_, let lease):
            if lease != 0 && !leases.contains(lease) { return .leaseNotFound(id: lease) }
        }
        return nil
    }

    private static func row(for op: WriteOperation, id: Int64, _ current: KeyValue?, lastRow: Int64) -> KineRow {
        switch op.action {
        case .put(let value, let lease):
            return KineRow(id: id, name: op.key, created: current == nil, deleted: false,
                           createRevision: current?.createRevision ?? RowID.revision(id), prevID: lastRow, lease: lease,
                           value: value, oldValue: current?.value ?? [], version: (current?.version ?? 0) + 1)
        case .delete:
            return tombstone(of: current!, id: id, lastRow: lastRow)
        }
    }

    /// The tombstone of a live key whose newest row is `lastRow`.
    private static func tombstone(of kv: KeyValue, id: Int64, lastRow: Int64) -> KineRow {
        KineRow(id: id, name: kv.key, created: false, deleted: true, createRevision: kv.createRevision,
                prevID: lastRow, lease: 0, value: [], oldValue: kv.value, version: kv.version)
    }
}

extension Array {
    /// The array cut into consecutive pieces of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
