import Storage

extension BatchContext {
    /// Applies a simple write: one key, one condition, one revision.
    func apply(_ op: WriteOperation) -> Result<WriteResult, KineError> {
        let state = states[HashedKey(op.key)] ?? KeyState(current: nil, lastRow: 0)
        if let failure = check(op, state.current) { return .failure(failure) }
        revision += 1
        let id = RowID.make(revision: revision, sub: 0)
        let row: KineRow
        switch op.action {
        case .put(let value, let lease): row = Self.putRow(op.key, value, lease: lease, id: id, state)
        case .delete: row = Self.tombstone(state.current!, id: id, lastRow: state.lastRow)
        }
        append(row)
        return .success(WriteResult(revision: revision, kv: row.keyValue, previous: state.current))
    }

    /// Why `op` may not run against the key's current value, or `nil` if it may.
    private func check(_ op: WriteOperation, _ current: KeyValue?) -> KineError? {
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
            if lease != 0 && (!liveLeases.contains(lease) || revokedLeases.contains(lease)) { return .leaseNotFound(id: lease) }
        }
        return nil
    }

    /// Revokes a lease: a tombstone (one revision each) for every key attached to it, then
    /// the lease itself. With `expiredBy`, does nothing if the lease was renewed past it.
    func revoke(_ id: Int64, expiredBy: Int64?) async throws -> Result<WriteResult, KineError> {
        guard try await leaseExists(id) else { return .failure(.leaseNotFound(id: id)) }
        if let expiredBy, let expiry = try await c.queryFirst(KineSQL.lease, [.integer(id)])?.int(2), expiry > expiredBy {
            return .success(WriteResult(revision: revision, kv: nil, previous: nil))
        }
        // Keys attached in SQL were loaded with the batch; keys attached earlier in this
        // batch are in `states` too.
        let attached = states.values.filter { $0.current?.lease == id }
            .sorted { $0.current!.key.lexicographicallyPrecedes($1.current!.key) }
        for state in attached {
            revision += 1
            append(Self.tombstone(state.current!, id: RowID.make(revision: revision, sub: 0), lastRow: state.lastRow))
        }
        try await c.execute(KineSQL.deleteLease, [.integer(id)])
        liveLeases.remove(id)
        revokedLeases.insert(id)
        return .success(WriteResult(revision: revision, kv: nil, previous: nil))
    }
}
