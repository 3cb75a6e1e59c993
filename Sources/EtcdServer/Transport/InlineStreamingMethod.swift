import GRPCCore

/// A streaming method the transport runs itself, without the server core's router and
/// writers: the request messages come in as bytes, and responses leave through a
/// ``StreamOutput`` that queues them without waiting, so a producer on any thread (a store
/// delivering changes) can send straight to the connection. Returning ends the call with
/// status OK; throwing an `RPCError` ends it with that status.
public protocol InlineStreamingMethod: Sendable {
    /// The method's path, `/package.Service/Method`.
    var path: String { get }
    /// Serves one call until the client's requests end and the method is done, or the call
    /// is cancelled (the task is cancelled and `requests` fails).
    func serve(requests: StreamRequests, output: StreamOutput) async throws
}

/// The request messages of an inline streaming call, as they arrive.
public struct StreamRequests: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let parts: StreamedCall.Inbound
    /// The call's request metadata.
    public let metadata: Metadata

    public struct AsyncIterator: AsyncIteratorProtocol {
        var parts: StreamedCall.Inbound.AsyncIterator

        public mutating func next() async throws -> [UInt8]? {
            while let part = try await parts.next() {
                if case .message(let bytes) = part { return bytes }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: parts.makeAsyncIterator()) }
}

/// The response side of an inline streaming call. ``send(_:)`` queues a message and never
/// waits; the connection's event loop writes whatever has queued, in order, with one flush.
public struct StreamOutput: Sendable {
    let writer: GRPCStreamWriter

    /// Queues an encoded response message; throws once the stream can take no more (it
    /// closed or failed).
    public func send(_ message: [UInt8]) throws {
        try writer.enqueue(.message(message))
    }

    /// Bytes of messages queued that have not reached the socket yet (HTTP/2 flow control
    /// included): what a client that reads slowly has left waiting.
    public var backlog: Int { writer.queue.backlog }

    /// Returns once the backlog is under the writer's limit.
    public func waitForRoom() async throws {
        try await writer.queue.waitForRoom()
    }
}
