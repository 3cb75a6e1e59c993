import Synchronization

/// Many producers, one consumer, bounded twice: ``offer(_:force:)`` never waits, so it can
/// be called while a watch's changes are delivered, and refuses elements past `limit` (the
/// watch is then dropped as too slow); ``waitForRoom()`` lets a producer that may wait hold
/// back while `capacity` elements are queued. The consumer takes everything queued at once,
/// so a burst of responses costs one hand-over, not one per response.
final class ResponseBuffer<Element: Sendable>: Sendable {
    private struct State {
        var elements: [Element] = []
        var finished = false
        var consumer: CheckedContinuation<[Element]?, Never>?
        var producers: [CheckedContinuation<Void, Never>] = []
    }

    private let capacity: Int
    private let limit: Int
    private let state = Mutex(State())

    /// - Parameters:
    ///   - capacity: queued elements at which ``waitForRoom()`` waits.
    ///   - limit: queued elements at which ``offer(_:force:)`` refuses more.
    init(capacity: Int, limit: Int) {
        precondition(capacity <= limit)
        self.capacity = capacity
        self.limit = limit
    }

    /// Queues an element without waiting. Returns `false`, queuing nothing, when `limit`
    /// elements are queued and `force` is not set. After ``finish()`` elements are dropped.
    @discardableResult
    func offer(_ element: Element, force: Bool = false) -> Bool {
        let outcome: (accepted: Bool, consumer: CheckedContinuation<[Element]?, Never>?) = state.withLock { s in
            if s.finished { return (true, nil) }
            // A waiting consumer means an empty buffer: the element goes straight to it.
            if let waiting = s.consumer {
                s.consumer = nil
                return (true, waiting)
            }
            if s.elements.count >= limit && !force { return (false, nil) }
            s.elements.append(element)
            return (true, nil)
        }
        outcome.consumer?.resume(returning: [element])
        return outcome.accepted
    }

    /// Returns once fewer than `capacity` elements are queued (or the buffer finished).
    func waitForRoom() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = state.withLock { s in
                if s.finished || s.elements.count < capacity { return false }
                s.producers.append(continuation)
                return true
            }
            if !wait { continuation.resume() }
        }
    }

    /// Everything queued, waiting for at least one element; `nil` once finished and empty.
    func next() async -> [Element]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[Element]?, Never>) in
            let (ready, producers): ([Element]??, [CheckedContinuation<Void, Never>]) = state.withLock { s in
                if !s.elements.isEmpty {
                    defer { s.elements = []; s.producers = [] }
                    return (.some(s.elements), s.producers)
                }
                if s.finished { return (.some(nil), []) }
                s.consumer = continuation
                return (nil, [])
            }
            for producer in producers { producer.resume() }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Ends the buffer: the consumer gets what is queued, then `nil`; waiting producers go on.
    func finish() {
        let (consumer, producers) = state.withLock { s in
            s.finished = true
            defer { s.consumer = nil; s.producers = [] }
            return (s.elements.isEmpty ? s.consumer : nil, s.producers)
        }
        consumer?.resume(returning: nil)
        for producer in producers { producer.resume() }
    }
}
