import Storage

extension BatchContext {
    /// Applies a transaction under a savepoint: if one of its operations fails (a missing
    /// lease, a compacted read, …) everything it did is undone and only it fails.
    func apply(_ txn: Txn) async throws -> Result<WriteResult, KineError> {
        try await flush()
        let saved = (revision, rows.count, states, liveLeases, revokedLeases)
        try await c.execute(KineSQL.savepoint)
        do {
            var sub: Int64 = 0
            var txnRevision = saved.0 + 1
            var result = try await run(txn, at: &txnRevision, sub: &sub)
            try await flush()
            try await c.execute(KineSQL.releaseSavepoint)
            result.stamp(revision)
            return .success(WriteResult(revision: revision, kv: nil, previous: nil, txn: result))
        } catch let error as KineError {
            try await c.execute(KineSQL.rollbackToSavepoint)
            try await c.execute(KineSQL.releaseSavepoint)
            (revision, _, states, liveLeases, revokedLeases) = saved
            truncate(to: saved.1)
            return .failure(error)
        }
    }

    /// Runs a (possibly nested) transaction; its changes get revision `txnRevision` and
    /// consecutive sub-revisions from `sub`.
    private func run(_ txn: Txn, at txnRevision: inout Int64, sub: inout Int64) async throws -> TxnResult {
        var succeeded = true
        for compare in txn.compares where !compare.holds(for: try await liveKeys(compare.range)) {
            succeeded = false
            break
        }
        var results: [TxnOperationResult] = []
        for operation in succeeded ? txn.success : txn.failure {
            switch operation {
            case .range(let query):
                try await flush()
                _ = try await KineReader.checkedRevision(c, requested: query.revision)
                results.append(.range(try await query.run(c, current: revision)))

            case .put(let put):
                let state = try await state(of: put.key)
                if (put.ignoreValue || put.ignoreLease) && state.current == nil { throw KineError.notFound(key: put.key) }
                let lease = put.ignoreLease ? state.current!.lease : put.lease
                if lease != 0, !(try await leaseExists(lease)) { throw KineError.leaseNotFound(id: lease) }
                let value = put.ignoreValue ? state.current!.value : put.value
                append(Self.putRow(put.key, value, lease: lease, id: nextID(&txnRevision, &sub), state))
                results.append(.put(previous: state.current))

            case .deleteRange(let range):
                var deleted: [KeyValue] = []
                for kv in try await liveKeys(range) {
                    let state = try await state(of: kv.key)
                    append(Self.tombstone(kv, id: nextID(&txnRevision, &sub), lastRow: state.lastRow))
                    deleted.append(kv)
                }
                results.append(.deleteRange(deleted: deleted))

            case .txn(let inner):
                results.append(.txn(try await run(inner, at: &txnRevision, sub: &sub)))
            }
        }
        return TxnResult(succeeded: succeeded, results: results, revision: revision)
    }

    /// The id of the transaction's next change; the first one moves the batch to the
    /// transaction's revision. A transaction that changes more keys than one revision can
    /// hold (``RowID/maxChangesPerRevision``) goes on at the next revision: still one SQL
    /// transaction, so still all or nothing, but watchers see it as several revisions.
    private func nextID(_ txnRevision: inout Int64, _ sub: inout Int64) -> Int64 {
        if sub == RowID.maxChangesPerRevision {
            txnRevision += 1
            sub = 0
        }
        revision = txnRevision
        defer { sub += 1 }
        return RowID.make(revision: txnRevision, sub: sub)
    }
}

extension TxnResult {
    /// Sets the revision after the transaction on it and on its nested transactions.
    mutating func stamp(_ revision: Int64) {
        self.revision = revision
        results = results.map { result in
            guard case .txn(var inner) = result else { return result }
            inner.stamp(revision)
            return .txn(inner)
        }
    }
}
