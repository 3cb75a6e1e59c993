/// How writes reach the database: the strategy decides how many requests share one SQL
/// transaction. Every strategy applies requests in submission order per batch, publishes
/// the resulting events to the watch feed, and answers each request on its own.
protocol CommitStrategy: Sendable {
    /// Queues one request; `completion` gets what it did or why it did not happen, on the
    /// committer's thread (keep it short).
    func enqueue(_ request: WriteRequest, completion: @escaping WriteCompletion)
    /// Fails every request not yet taken and refuses new ones.
    func close()
    /// Requests queued and not yet taken into a transaction.
    var queued: Int { get }
}

/// Where a write's outcome goes.
typealias WriteCompletion = @Sendable (Result<WriteResult, any Error>) -> Void

extension CommitStrategy {
    /// Applies one request and returns what it did, or throws why it did not happen.
    func submit(_ request: WriteRequest) async throws -> WriteResult {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(request) { continuation.resume(with: $0) }
        }
    }
}

/// Which ``CommitStrategy`` a store uses.
public enum CommitMode: Sendable, Hashable {
    /// Batch every write that arrives while a transaction is committing into the next one,
    /// up to `maxBatch` requests and about `maxBatchBytes` of keys and values per
    /// transaction (a request larger than that commits alone).
    case group(maxBatch: Int = 1024, maxBatchBytes: Int = 16 << 20)
    /// One transaction per write.
    case serial

    /// The strategy, with group commit's batches no larger than the database prefers its
    /// transactions (a replicated database: each transaction is a Raft entry of its pages).
    func makeStrategy(executor: BatchExecutor, feed: WatchFeed) -> any CommitStrategy {
        switch self {
        case .group(let maxBatch, let maxBatchBytes):
            let preferred = executor.db.preferredTransactionSize
            return GroupCommit(executor: executor, feed: feed, maxBatch: min(maxBatch, preferred?.changes ?? .max),
                               maxBatchBytes: min(maxBatchBytes, preferred?.bytes ?? .max))
        case .serial: return SerialCommit(executor: executor, feed: feed)
        }
    }
}

extension Result where Failure == KineError {
    /// The result with its error widened, for resuming a throwing continuation.
    var widened: Result<Success, any Error> { mapError { $0 as any Error } }
}
