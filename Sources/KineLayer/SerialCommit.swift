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

    func enqueue(_ request: WriteRequest, completion: @escaping WriteCompletion) {
        if closed.withLock({ $0 }) { return completion(.failure(KineError.closed)) }
        Task {
            var changes = 0
            do {
                let outcome = try await executor.execute([request])
                changes = outcome.events.count
                feed.publish(outcome.events)
                completion(outcome.results[0].widened)
            } catch {
                completion(.failure(error))
            }
            HeapTrim.after(changes: changes)
        }
    }

    func close() {
        closed.withLock { $0 = true }
    }

    /// Nothing queues: each request starts its own transaction at once.
    var queued: Int { 0 }
}
