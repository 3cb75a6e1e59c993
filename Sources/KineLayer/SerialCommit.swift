import Synchronization

/// One SQL transaction per request: the baseline group commit is measured against.
final class SerialCommit: CommitStrategy {
    private let executor: BatchExecutor
    private let feed: WatchFeed
    private let closed = Mutex(false)

    init(executor: BatchExecutor, feed: WatchFeed) {
        self.executor = executor
        self.feed = feed
    }

    func submit(_ request: WriteRequest) async throws -> WriteResult {
        if closed.withLock({ $0 }) { throw KineError.closed }
        let outcome = try await executor.execute([request])
        feed.publish(outcome.events)
        return try outcome.results[0].get()
    }

    func close() {
        closed.withLock { $0 = true }
    }
}
