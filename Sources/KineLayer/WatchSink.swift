/// Where one watch's messages go, handed over synchronously by whoever delivers them: no
/// task wakes up per watch and per change, so a server with many watches on one stream can
/// turn a batch of changes into responses in one pass.
///
/// Calls for one watch come one at a time and in order. ``receive(_:)`` may still be called
/// after ``finish(_:)`` when a delivery raced with the end of the watch; ignore it then.
public protocol WatchSink: Sendable {
    /// Takes a message. Returns `false` when the receiver cannot keep up: the watch then
    /// ends with ``KineError/watcherOverflow``. Must not block or call back into the store.
    func receive(_ message: WatchMessage) -> Bool

    /// The watch ended: normally (`nil`, it was cancelled or the store closed) or with an
    /// error.
    func finish(_ error: (any Error)?)
}

/// A sink feeding an `AsyncThrowingStream`, for callers that consume a watch in a task.
struct StreamWatchSink: WatchSink {
    let continuation: AsyncThrowingStream<WatchMessage, any Error>.Continuation

    func receive(_ message: WatchMessage) -> Bool {
        if case .enqueued = continuation.yield(message) { return true }
        return false
    }

    func finish(_ error: (any Error)?) {
        continuation.finish(throwing: error)
    }
}
