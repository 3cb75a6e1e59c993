import NIOCore

/// Copies every byte read on its channel to a partner channel, and closes the partner when
/// its own channel closes: one half of a two-way relay between two connections.
///
/// The relay holds back: while its own channel has more buffered for writing than its high
/// water mark (``waterMark``), its partner stops reading, so a side that reads slower than
/// the other sends makes the sender wait (TCP's window, then the sender's own queue)
/// instead of filling this process's memory. Both channels of a relay share an event loop.
final class RelayHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// The write buffer water marks of a relay's channels: high enough that a Raft stream
    /// at hundreds of megabytes a second rarely pauses, low enough to bound what waits.
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 1 << 20, high: 4 << 20)

    private let partner: any Channel

    init(partner: any Channel) { self.partner = partner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.write(unwrapInboundIn(data), promise: nil)
    }

    /// One flush per burst of reads: the partner sends what the burst carried in as few
    /// writes (and, over TLS, records) as it can, instead of one per read.
    func channelReadComplete(context: ChannelHandlerContext) {
        partner.flush()
        context.fireChannelReadComplete()
    }

    /// The partner reads only while this channel can take what it reads.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        partner.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
