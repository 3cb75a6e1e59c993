import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Storage
import NIOTLS

/// The node's cluster port: TLS in front of the dqlite node, which listens only on an
/// abstract local socket. A peer with a certificate signed by the cluster CA (another
/// member's Raft traffic, a member's SQL client) is relayed to the node; a peer without
/// a certificate may only send one join request, which is answered and the connection
/// closed. A certificate the CA did not sign fails the TLS handshake.
final class ClusterProxy: Sendable {
    typealias JoinHandler = @Sendable (JoinRequest) async -> JoinResponse

    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Listens on `address` ("IP:PORT").
    static func start(address: String, tls: NIOSSLContext, nodeSocket: String, group: any EventLoopGroup,
                      logger: Logger, onJoin: @escaping JoinHandler) async throws -> ClusterProxy {
        let (host, port) = try DqliteAddress.split(address)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: RelayHandler.waterMark)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    try ops.addHandler(NIOSSLServerHandler(context: tls))
                    try ops.addHandler(ClusterConnectionRouter(nodeSocket: nodeSocket, logger: logger, onJoin: onJoin))
                }
            }
            .bind(host: host, port: port).get()
        return ClusterProxy(channel: channel)
    }

    func close() async {
        try? await channel.close()
    }

}

/// Decides, once the TLS handshake is done, whether a connection is a member's (relay it
/// to the node) or a stranger's (it may only ask to join).
final class ClusterConnectionRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let nodeSocket: String
    private let logger: Logger
    private let onJoin: ClusterProxy.JoinHandler
    private var buffered: [ByteBuffer] = []
    private var mode: Mode = .handshaking

    private enum Mode { case handshaking, relaying, joining }

    /// A join request bigger than this is refused.
    static let maxJoinRequest = 64 * 1024

    init(nodeSocket: String, logger: Logger, onJoin: @escaping ClusterProxy.JoinHandler) {
        self.nodeSocket = nodeSocket
        self.logger = logger
        self.onJoin = onJoin
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        if peer != nil {
            mode = .relaying
            relay(context: context)
        } else {
            mode = .joining
            answerJoinIfComplete(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffered.append(unwrapInboundIn(data))
        if mode == .joining { answerJoinIfComplete(context: context) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("cluster connection failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Connects to the node's local socket and relays the connection to it. While the node's
    /// accept backlog is full (the node is busy), the connect is tried again every 5 ms for
    /// up to a second, on the event loop's timer: a blocking connect would stop every other
    /// connection of this event loop, Raft traffic included, until the node accepted.
    private func relay(context: ChannelHandlerContext, attempt: Int = 0) {
        let fd: Int32
        do {
            fd = try LocalSocket.connectAbstract(nodeSocket)
        } catch is LocalSocket.Busy where attempt < 200 {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(5)) {
                let (router, context) = loopBound.value
                guard context.channel.isActive else { return }
                router.relay(context: context, attempt: attempt + 1)
            }
            return
        } catch {
            logger.warning("cannot relay to the local node", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        let tlsChannel = context.channel
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.writeBufferWaterMark, value: RelayHandler.waterMark)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RelayHandler(partner: tlsChannel))
                }
            }
            .withConnectedSocket(fd)
            .whenComplete { result in
                let (router, context) = loopBound.value
                switch result {
                case .success(let local):
                    // The peer may have gone while the local connection was being made.
                    guard tlsChannel.isActive else {
                        local.close(promise: nil)
                        return
                    }
                    for chunk in router.buffered { local.writeAndFlush(chunk, promise: nil) }
                    router.buffered = []
                    let ops = context.pipeline.syncOperations
                    try? ops.addHandler(RelayHandler(partner: local), position: .after(router))
                    _ = context.pipeline.syncOperations.removeHandler(router)
                case .failure(let error):
                    router.logger.warning("cannot relay to the local node", metadata: ["error": "\(error)"])
                    context.close(promise: nil)
                }
            }
    }

    private func answerJoinIfComplete(context: ChannelHandlerContext) {
        var all = ByteBuffer()
        for var chunk in buffered { all.writeBuffer(&chunk) }
        guard let newline = all.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if all.readableBytes > Self.maxJoinRequest { context.close(promise: nil) }
            return
        }
        buffered = []
        let line = Data(all.readableBytesView[..<newline])
        let channel = context.channel
        guard let request = try? JSONDecoder().decode(JoinRequest.self, from: line) else {
            Self.send(JoinResponse(error: "malformed join request"), on: channel)
            return
        }
        Self.answer(request, with: onJoin, on: channel)
    }

    private static func answer(_ request: JoinRequest, with onJoin: @escaping ClusterProxy.JoinHandler, on channel: any Channel) {
        Task {
            let response = await onJoin(request)
            send(response, on: channel)
        }
    }

    private static func send(_ response: JoinResponse, on channel: any Channel) {
        var data = (try? JSONEncoder().encode(response)) ?? Data("{\"error\":\"internal error\"}".utf8)
        data.append(UInt8(ascii: "\n"))
        channel.writeAndFlush(ByteBuffer(bytes: data)).whenComplete { _ in channel.close(promise: nil) }
    }
}
