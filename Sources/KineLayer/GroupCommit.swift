import Synchronization

/// Group commit: requests queue up while a transaction commits; the next transaction takes
/// all of them (up to `maxBatch` requests and `maxBatchBytes` of keys and values). Under
/// load, throughput is bounded by the number of requests per fsync (or Raft round trip),
/// not by one fsync per request. With no
/// contention a request commits alone, with no added delay.
final class GroupCommit: CommitStrategy {
    private struct Pending {
        var request: WriteRequest
        var completion: WriteCompletion
        /// ``WriteRequest/payloadBytes``, measured once when the request is queued.
        var bytes: Int
    }

    private struct State {
        var queue: [Pending] = []
        var draining = false
        var closed = false
    }

    private let executor: BatchExecutor
    private let feed: WatchFeed
    private let maxBatch: Int
    private let maxBatchBytes: Int
    private let state = Mutex(State())

    init(executor: BatchExecutor, feed: WatchFeed, maxBatch: Int, maxBatchBytes: Int = .max) {
        self.executor = executor
        self.feed = feed
        self.maxBatch = max(1, maxBatch)
        self.maxBatchBytes = max(1, maxBatchBytes)
    }

    func enqueue(_ request: WriteRequest, completion: @escaping WriteCompletion) {
        let pending = Pending(request: request, completion: completion, bytes: request.payloadBytes)
        let startDrain: Bool? = state.withLock { s in
            if s.closed { return nil }
            s.queue.append(pending)
            if s.draining { return false }
            s.draining = true
            return true
        }
        switch startDrain {
        case nil: completion(.failure(KineError.closed))
        case true?: Task(executorPreference: executor.db.writeExecutor) { await self.drain() }
        case false?: break
        }
    }

    func close() {
        let abandoned = state.withLock { s in
            s.closed = true
            defer { s.queue = [] }
            return s.queue
        }
        for p in abandoned { p.completion(.failure(KineError.closed)) }
    }

    /// Commits batches until the queue is empty. Only one drain runs at a time.
    private func drain() async {
        while true {
            let batch: [Pending] = state.withLock { s in
                guard !s.queue.isEmpty else {
                    s.draining = false
                    return []
                }
                var n = 0, bytes = 0
                while n < min(maxBatch, s.queue.count) {
                    bytes += s.queue[n].bytes
                    if n > 0 && bytes > maxBatchBytes { break }
                    n += 1
                }
                defer { s.queue.removeFirst(n) }
                return Array(s.queue.prefix(n))
            }
            if batch.isEmpty { return }
            var changes = 0
            do {
                let outcome = try await executor.execute(batch.map(\.request))
                changes = outcome.events.count
                feed.publish(outcome.events)
                for (pending, result) in zip(batch, outcome.results) {
                    pending.completion(result.widened)
                }
            } catch {
                for pending in batch { pending.completion(.failure(error)) }
            }
            HeapTrim.after(changes: changes)
        }
    }
}
