import NIOCore

/// Placed in front of the HTTP/1.1 decoder: tells the handlers behind it that request bytes
/// arrived (a ``InboundBytesSignal/Arrived`` user event per read), so a header that trickles
/// in is timed from its first byte even though no request part is decoded yet.
final class InboundBytesSignal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The user event: bytes arrived.
    struct Arrived {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireUserInboundEventTriggered(Arrived())
        context.fireChannelRead(data)
    }
}
