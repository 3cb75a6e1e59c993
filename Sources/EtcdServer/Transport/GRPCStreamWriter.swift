import GRPCCore
import NIOCore
import NIOHTTP2

/// The response side of a ``StreamedCall``: parts queue up in an ``OutboundQueue`` and the
/// connection's event loop writes whatever has queued in one go, with one flush. A write
/// returns at once while less than ``OutboundQueue/limit`` bytes of the stream wait to reach
/// the socket (HTTP/2 flow control included); past that it waits, so a reader that stops
/// reading holds its writer back.
struct GRPCStreamWriter: ClosableRPCWriterProtocol {
    typealias Element = RPCResponsePart<[UInt8]>

    let connection: NIOLoopBound<GRPCConnectionHandler>
    let streamID: HTTP2StreamID
    let queue = OutboundQueue()

    func write(_ element: Element) async throws {
        try await write(contentsOf: CollectionOfOne(element))
    }

    /// Queues every element, asks the event loop to drain once, and waits once.
    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try enqueue(element) }
        try await queue.waitForRoom()
    }

    /// Queues an element without waiting; the first element queued since the last drain
    /// asks the event loop for one.
    func enqueue(_ element: Element) throws {
        guard try queue.push(element) else { return }
        let connection = self.connection, streamID = self.streamID, queue = self.queue
        connection.eventLoop.execute { connection.value.drain(queue, on: streamID) }
    }

    /// Ends the call with status OK.
    func finishOK() {
        try? enqueue(.status(Status(code: .ok, message: ""), [:]))
    }

    /// Ends the call; if no status was written, the client gets an internal error.
    func finish() async {
        end(RPCError(code: .internalError, message: "the server ended the call without a status"))
    }

    func finish(throwing error: any Error) async {
        end(error as? RPCError ?? RPCError(code: .unknown, message: "\(error)"))
    }

    private func end(_ error: RPCError) {
        let connection = self.connection, streamID = self.streamID, queue = self.queue
        connection.eventLoop.execute {
            connection.value.drain(queue, on: streamID)
            connection.value.finish(streamID, ifOpenWith: error)
        }
    }
}
