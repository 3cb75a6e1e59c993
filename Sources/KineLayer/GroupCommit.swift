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

    var queued: Int { state.withLock { $0.queue.count } }

    /// Commits batches until the queue is empty. Only one drain runs at a time.
    ///
    /// A batch is taken from the queue when its transaction starts (holds the write lock),
    /// not before: while another member's commit holds the lock, requests keep joining it.
    private func drain() async {
        while true {
            let more = state.withLock { s in
                if s.queue.isEmpty { s.draining = false }
                return !s.queue.isEmpty
            }
            guard more else { return }
            let claim = BatchClaim()
            var changes = 0
            do {
                let outcome = try await executor.execute(taking: { claim.requests(taking: self.takeBatch) })
                let batch = claim.pending(taking: self.takeBatch)
                changes = outcome.events.count
                feed.publish(outcome.events)
                for (pending, result) in zip(batch, outcome.results) {
                    pending.completion(result.widened)
                }
            } catch {
                // A batch whose transaction never started is taken now, to fail with it.
                for pending in claim.pending(taking: self.takeBatch) { pending.completion(.failure(error)) }
            }
            HeapTrim.after(changes: changes)
        }
    }

    /// The requests at the head of the queue, up to the batch limits, off the queue.
    private func takeBatch() -> [Pending] {
        state.withLock { s in
            var n = 0, bytes = 0
            while n < min(maxBatch, s.queue.count) {
                bytes += s.queue[n].bytes
                if n > 0 && bytes > maxBatchBytes { break }
                n += 1
            }
            defer { s.queue.removeFirst(n) }
            return Array(s.queue.prefix(n))
        }
    }

    /// One transaction's batch, taken from the queue at most once however often the
    /// transaction's body runs.
    private final class BatchClaim: Sendable {
        private let taken = Mutex<[Pending]?>(nil)

        func pending(taking take: () -> [Pending]) -> [Pending] {
            taken.withLock { batch in
                if let batch { return batch }
                let fresh = take()
                batch = fresh
                return fresh
            }
        }

        func requests(taking take: () -> [Pending]) -> [WriteRequest] {
            pending(taking: take).map(\.request)
        }
    }
}
