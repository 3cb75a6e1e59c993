import Synchronization

/// Many producers, one consumer, bounded: producers wait while `capacity` elements are
/// queued (a slow client slows its watches instead of growing a buffer), and the consumer
/// takes everything queued at once, so a burst of responses costs one hand-over, not one per
/// response.
final class ResponseBuffer<Element: Sendable>: Sendable {
    private struct State {
        var elements: [Element] = []
        var finished = false
        var consumer: CheckedContinuation<[Element]?, Never>?
        var producers: [CheckedContinuation<Void, Never>] = []
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Queues an element, waiting while the buffer is full. Dropped after ``finish()``.
    func send(_ element: Element) async {
        let consumer: CheckedContinuation<[Element]?, Never>? = state.withLock { s in
            guard !s.finished else { return nil }
            // A waiting consumer means an empty buffer: the element goes straight to it.
            if let waiting = s.consumer {
                s.consumer = nil
                return waiting
            }
            s.elements.append(element)
            return nil
        }
        if let consumer {
            consumer.resume(returning: [element])
            return
        }
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
