import Storage

/// Applies a batch of write requests in one SQL transaction.
///
/// Each request's preconditions are checked against the state left by the requests before
/// it in the batch, so a batch is equivalent to running its requests one after another; a
/// request that fails leaves no trace and fails only itself. Revisions are assigned here,
/// continuing from the log's current revision: one per simple write, one per transaction
/// that changes anything.
struct BatchExecutor: Sendable {
    let db: any SQLDatabase

    struct Outcome: Sendable {
        var results: [Result<WriteResult, KineError>]
        /// The changes the batch made, in revision order.
        var events: [Event]
    }

    func execute(_ requests: [WriteRequest]) async throws -> Outcome {
        try await execute(taking: { requests })
    }

    /// Applies the requests `take` returns, calling it only once the transaction holds the
    /// write lock (and again, for the same requests, if the transaction is run again): on a
    /// replicated database the wait for the lock can be long, and whatever queued meanwhile
    /// joins the batch. `take` must return the same requests each time it is called.
    func execute(taking take: () -> [WriteRequest]) async throws -> Outcome {
        let parameterLimit = min(db.maxParametersPerStatement, 255)
        return try await db.write { c in
            let requests = take()
            let batch = try await BatchContext.load(for: requests, on: c, parameterLimit: parameterLimit)
            var results: [Result<WriteResult, KineError>] = []
            results.reserveCapacity(requests.count)
            for request in requests {
                switch request {
                case .operation(let op): results.append(batch.apply(op))
                case .revokeLease(let id, let expiredBy): results.append(try await batch.revoke(id, expiredBy: expiredBy))
                case .txn(let txn): results.append(try await batch.apply(txn))
                }
            }
            try await batch.flush()
            return Outcome(results: results, events: batch.rows.map(\.event))
        }
    }
}

extension Array {
    /// The array cut into consecutive pieces of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
