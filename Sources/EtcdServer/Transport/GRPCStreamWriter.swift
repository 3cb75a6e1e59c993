import GRPCCore
import NIOCore
import NIOHTTP2

/// The response side of a ``StreamedCall``: each part becomes HTTP/2 frames on the
/// connection's event loop, and a write returns once its frame has gone to the socket, so a
/// reader that stops reading (HTTP/2 flow control) holds its writer back.
struct GRPCStreamWriter: ClosableRPCWriterProtocol {
    typealias Element = RPCResponsePart<[UInt8]>

    let connection: NIOLoopBound<GRPCConnectionHandler>
    let streamID: HTTP2StreamID

    func write(_ element: Element) async throws {
        let loop = connection.eventLoop
        let promise = loop.makePromise(of: Void.self)
        let connection = self.connection, streamID = self.streamID
        loop.execute { connection.value.send(element, on: streamID, promise: promise) }
        try await promise.futureResult.get()
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try await write(element) }
    }

    /// Ends the call; if no status was written, the client gets an internal error.
    func finish() async {
        await end(RPCError(code: .internalError, message: "the server ended the call without a status"))
    }

    func finish(throwing error: any Error) async {
        await end(error as? RPCError ?? RPCError(code: .unknown, message: "\(error)"))
    }

    private func end(_ error: RPCError) async {
        let connection = self.connection, streamID = self.streamID
        connection.eventLoop.execute { connection.value.finish(streamID, ifOpenWith: error) }
    }
}
