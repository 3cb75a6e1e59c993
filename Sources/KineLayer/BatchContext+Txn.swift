import Storage

extension BatchContext {
    /// How a transaction touches SQL: single-key work runs on the batch's preloaded key
    /// states and its rows join the batch's bulk inserts; only a transaction that must read
    /// SQL (ranges, range compares) flushes and takes a savepoint, so that it can still be
    /// undone alone.
    final class TxnScope {
        /// The batch's row count when the transaction started.
        let startRow: Int
        var savepoint = false
        init(startRow: Int) { self.startRow = startRow }
    }

    /// Applies a transaction: if one of its operations fails (a missing lease, a compacted
    /// read, …) everything it did is undone and only it fails.
    func apply(_ txn: Txn) async throws -> Result<WriteResult, KineError> {
        let saved = (revision, states, liveLeases, revokedLeases)
        let scope = TxnScope(startRow: rows.count)
        do {
            var sub: Int64 = 0
            var txnRevision = saved.0 + 1
            var result = try await run(txn, at: &txnRevision, sub: &sub, scope)
            if scope.savepoint { try await c.execute(KineSQL.releaseSavepoint) }
            result.stamp(revision)
            return .success(WriteResult(revision: revision, kv: nil, previous: nil, txn: result))
        } catch let error as KineError {
            if scope.savepoint {
                try await c.execute(KineSQL.rollbackToSavepoint)
                try await c.execute(KineSQL.releaseSavepoint)
            }
            (revision, states, liveLeases, revokedLeases) = saved
            truncate(to: scope.startRow)
            return .failure(error)
        }
    }

    /// Makes everything the batch and the transaction wrote so far visible to SQL reads,
    /// taking the transaction's savepoint first if it has none yet.
    private func flushForRead(_ scope: TxnScope) async throws {
        if !scope.savepoint {
            try await flush(upTo: scope.startRow)
            try await c.execute(KineSQL.savepoint)
            scope.savepoint = true
        }
        try await flush()
    }

    /// The live keys of a range as the transaction sees them: from the batch's key states
    /// for one key, from SQL otherwise.
    private func liveKeys(_ range: KeyRange, _ scope: TxnScope) async throws -> [KeyValue] {
        try await liveKeysWithRows(range, scope).map(\.kv)
    }

    /// The live keys of a range with the id of each one's newest row, as the batch has left
    /// them: from the batch's states for a single key, else from one range read (after the
    /// batch's rows are flushed, a live key's row in that read is its newest).
    private func liveKeysWithRows(_ range: KeyRange, _ scope: TxnScope) async throws -> [(kv: KeyValue, lastRow: Int64)] {
        if case .single = range.end {
            let state = try await state(of: range.start)
            return state.current.map { [($0, state.lastRow)] } ?? []
        }
        try await flushForRead(scope)
        return try await RangeQuery.liveRows(of: range, c, at: revision).compactMap { row in row.keyValue.map { ($0, row.id) } }
    }

    /// Runs a (possibly nested) transaction; its changes get revision `txnRevision` and
    /// consecutive sub-revisions from `sub`.
    private func run(_ txn: Txn, at txnRevision: inout Int64, sub: inout Int64, _ scope: TxnScope) async throws -> TxnResult {
        var succeeded = true
        for compare in txn.compares where !compare.holds(for: try await liveKeys(compare.range, scope)) {
            succeeded = false
            break
        }
        var results: [TxnOperationResult] = []
        for operation in succeeded ? txn.success : txn.failure {
            switch operation {
            case .range(let query) where query.isSingleKeyNow:
                let kvs = try await liveKeys(query.range, scope)
                results.append(.range(query.result(of: kvs)))

            case .range(let query):
                try await flushForRead(scope)
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
                for (kv, lastRow) in try await liveKeysWithRows(range, scope) {
                    append(Self.tombstone(kv, id: nextID(&txnRevision, &sub), lastRow: lastRow))
                    deleted.append(kv)
                }
                results.append(.deleteRange(deleted: deleted))

            case .txn(let inner):
                results.append(.txn(try await run(inner, at: &txnRevision, sub: &sub, scope)))
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
