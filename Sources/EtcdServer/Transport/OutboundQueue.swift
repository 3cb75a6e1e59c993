import GRPCCore
import Synchronization

/// One stream's response parts between the writing task and the event loop, and the bytes
/// written but not yet on the socket. The first write error (the stream closed) fails every
/// later write.
final class OutboundQueue: Sendable {
    typealias Part = RPCResponsePart<[UInt8]>

    /// Bytes waiting beyond which a writer waits.
    static let limit = 1 << 20

    private struct State {
        var parts: [Part] = []
        /// Bytes of the parts queued and not yet taken.
        var queued = 0
        /// Bytes queued or taken that have not reached the socket.
        var bytes = 0
        var drainScheduled = false
        var failure: (any Error)?
        var waiters: [CheckedContinuation<Void, any Error>] = []
    }

    private let state = Mutex(State())

    /// The bytes a part puts on the wire as a gRPC message (its 5-byte prefix included);
    /// headers and trailers are not counted.
    static func size(of part: Part) -> Int {
        if case .message(let bytes) = part { return bytes.count + 5 }
        return 0
    }

    /// Queues a part; `true` when the event loop must be asked to drain the queue.
    func push(_ part: Part) throws -> Bool {
        let size = Self.size(of: part)
        return try state.withLock { s in
            if let failure = s.failure { throw failure }
            s.parts.append(part)
            s.queued += size
            s.bytes += size
            defer { s.drainScheduled = true }
            return !s.drainScheduled
        }
    }

    /// Bytes queued or taken that have not reached the socket.
    var backlog: Int { state.withLock { $0.bytes } }

    /// Returns once the stream's backlog is under the limit.
    func waitForRoom() async throws {
        let ready: Bool = try state.withLock { s in
            if let failure = s.failure { throw failure }
            return s.bytes <= Self.limit
        }
        if ready { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result: Result<Void, any Error>? = state.withLock { s in
                if let failure = s.failure { return .failure(failure) }
                if s.bytes <= Self.limit { return .success(()) }
                s.waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// Everything queued, for the event loop to write, and its size in bytes.
    func take() -> (parts: [Part], bytes: Int) {
        state.withLock { s in
            s.drainScheduled = false
            defer { s.parts = []; s.queued = 0 }
            return (s.parts, s.queued)
        }
    }

    /// `bytes` reached the socket, or could not (`result` is the failure).
    func written(_ bytes: Int, _ result: Result<Void, any Error>) {
        let (waiters, outcome): ([CheckedContinuation<Void, any Error>], Result<Void, any Error>) = state.withLock { s in
            s.bytes -= bytes
            if case .failure(let error) = result, s.failure == nil { s.failure = error }
            if let failure = s.failure {
                defer { s.waiters = [] }
                return (s.waiters, .failure(failure))
            }
            guard s.bytes <= Self.limit else { return ([], .success(())) }
            defer { s.waiters = [] }
            return (s.waiters, .success(()))
        }
        for waiter in waiters { waiter.resume(with: outcome) }
    }
}
