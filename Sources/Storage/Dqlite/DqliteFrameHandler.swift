import NIOCore

/// A response as it came off the wire: its type and body (several bodies for a result
/// that came in several ROWS frames).
struct DqliteResponse: Sendable {
    var type: UInt8
    var bodies: [ByteBuffer]

    var body: ByteBuffer { bodies[0] }
}

/// Cuts the inbound byte stream into dqlite messages (type, body).
struct DqliteFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = (UInt8, ByteBuffer)

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 8,
              let words = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self),
              let type = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self) else { return .needMoreData }
        let length = Int(words) * 8
        guard buffer.readableBytes >= 8 + length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 8)
        let body = buffer.readSlice(length: length)!
        context.fireChannelRead(wrapInboundOut((type, body)))
        return .continue
    }
}

/// Matches responses to requests: dqlite answers pipelined requests in order. A result
/// split over several ROWS frames is gathered before it is handed over. When the
/// connection fails or closes, every request still waiting fails.
final class DqliteFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = (UInt8, ByteBuffer)
    typealias OutboundIn = (ByteBuffer, EventLoopPromise<DqliteResponse>)
    typealias OutboundOut = ByteBuffer

    private var pending = CircularBuffer<EventLoopPromise<DqliteResponse>>()
    private var partial: [ByteBuffer] = []
    private var failure: DqliteError?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (bytes, responsePromise) = unwrapOutboundIn(data)
        if let failure {
            responsePromise.fail(failure)
            promise?.fail(failure)
            return
        }
        pending.append(responsePromise)
        context.write(wrapOutboundOut(bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let (type, body) = unwrapInboundIn(data)
        if type == DqliteWire.Response.rows.rawValue, body.readableBytes >= 8,
           body.getInteger(at: body.writerIndex - 8, endianness: .little, as: UInt64.self) == DqliteWire.rowsPart {
            partial.append(body)
            return
        }
        let bodies = partial + [body]
        partial = []
        guard let promise = pending.popFirst() else {
            fail(context: context, .protocolViolation("a response came that no request asked for"))
            return
        }
        promise.succeed(DqliteResponse(type: type, bodies: bodies))
    }

    func channelActive(context: ChannelHandlerContext) {
        var version = context.channel.allocator.buffer(capacity: 8)
        version.writeInteger(DqliteWire.protocolVersion, endianness: .little)
        context.writeAndFlush(wrapOutboundOut(version), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, .connectionLost("the node closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error as? DqliteError ?? .connectionLost("\(error)"))
    }

    private func fail(context: ChannelHandlerContext, _ error: DqliteError) {
        if failure == nil { failure = error }
        while let p = pending.popFirst() { p.fail(error) }
        context.close(promise: nil)
    }
}
