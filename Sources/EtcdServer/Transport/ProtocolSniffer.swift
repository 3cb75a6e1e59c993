import NIOCore

/// Tells the two protocols an etcd client listener serves apart by the first bytes a
/// client sends, as etcd does on one port: an HTTP/2 connection opens with the client
/// preface, and anything else is taken for HTTP/1.1. It then installs that protocol's
/// handlers behind itself, hands them what it read, and leaves the pipeline.
///
/// It holds at most the preface's 24 bytes: the first byte that differs decides.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Installs a protocol's handlers at the end of the channel's pipeline (on its event loop).
    typealias Installer = (any Channel) throws -> Void

    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let http2: Installer
    private let http1: Installer
    private var received: ByteBuffer?
    private var decided = false

    init(http2: @escaping Installer, http1: @escaping Installer) {
        self.http2 = http2
        self.http1 = http1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(wrapInboundOut(incoming))
            return
        }
        var bytes = received ?? context.channel.allocator.buffer(capacity: incoming.readableBytes)
        bytes.writeBuffer(&incoming)
        let n = min(bytes.readableBytes, Self.http2Preface.count)
        let head = bytes.getBytes(at: bytes.readerIndex, length: n) ?? []
        let installer: Installer
        if head != Array(Self.http2Preface.prefix(n)) {
            installer = http1
        } else if n == Self.http2Preface.count {
            installer = http2
        } else {
            received = bytes
            return
        }
        decided = true
        received = nil
        do {
            try installer(context.channel)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        received = nil
        context.fireChannelInactive()
    }
}
