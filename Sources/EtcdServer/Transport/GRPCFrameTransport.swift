import GRPCCore
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization

/// A gRPC server transport for grpc-swift-2's `GRPCServer`: HTTP/2 on SwiftNIO, handled a
/// frame at a time per connection (``GRPCConnectionHandler``) instead of a channel and a
/// task per stream. Methods given as ``InlineUnaryMethod``s are answered by the transport
/// itself; calls of ``InlineStreamingMethod``s and every other call (run in the server core)
/// each run in a child task of ``listen(streamHandler:)``.
public final class GRPCFrameTransport: ServerTransport, Sendable {
    public typealias Bytes = [UInt8]

    /// Where and how to listen.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// TLS, when set; client certificates are required when it has trust roots.
        public var tls: TLSConfiguration?
        public var maxMessageBytes: Int
        /// kube-apiserver multiplexes every watch on few connections.
        public var maxConcurrentStreams: Int = 10_000
        public var windowBytes: Int = 8 * 1024 * 1024
        public var bufferedMessages: Int = 4096
        /// PING and SETTINGS frames a client may send before the connection is closed as
        /// abusive: 2,000 in any 200 ms. gRPC clients measure bandwidth with a PING after
        /// each DATA frame they receive once the previous PING is answered (grpc-go's BDP
        /// estimator), so a client receiving a steady flow of responses sends hundreds of
        /// PINGs a second: NIOHTTP2's default of 200 per 30 s closed every busy etcd
        /// client's connection within a second, and the client reconnected and re-created
        /// its watches. The window is short because the counter keeps one timestamp per
        /// frame in it, for every connection.
        public var controlFrameRateLimit: NIOHTTP2Handler.ControlFrameRateLimitConfiguration = {
            var limit = NIOHTTP2Handler.ControlFrameRateLimitConfiguration()
            limit.maximumCount = 2_000
            limit.windowLength = .milliseconds(200)
            return limit
        }()

        /// Answers the plain HTTP requests (HTTP/1.1, or HTTP/2 without gRPC's content type)
        /// that share the port, as etcd's `/metrics` does; without it they are refused.
        public var plain: (any HTTPResponder)?

        public init(host: String, port: Int, tls: TLSConfiguration?, maxMessageBytes: Int) {
            self.host = host
            self.port = port
            self.tls = tls
            self.maxMessageBytes = maxMessageBytes
        }
    }

    private let configuration: Configuration
    private let inline: [String: any InlineUnaryMethod]
    private let streaming: [String: any InlineStreamingMethod]
    private let group: any EventLoopGroup
    private let bound: EventLoopPromise<SocketAddress>
    private let state = Mutex(State())

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
    }

    public init(configuration: Configuration, inline: [any InlineUnaryMethod], streaming: [any InlineStreamingMethod] = [],
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.inline = Dictionary(inline.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.streaming = Dictionary(streaming.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.group = group
        self.bound = group.next().makePromise()
    }

    /// The address the transport listens on, once it does.
    public var listeningAddress: SocketAddress {
        get async throws { try await bound.futureResult.get() }
    }

    public func listen(streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void) async throws {
        let (calls, sink) = AsyncStream<StreamedCall>.makeStream()
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            bound.fail(error)
            throw error
        }
        let limits = GRPCConnectionHandler.Limits(maxMessageBytes: configuration.maxMessageBytes,
                                                  windowBytes: configuration.windowBytes,
                                                  bufferedMessages: configuration.bufferedMessages)
        var settings = HTTP2Settings()
        settings.append(HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.maxConcurrentStreams))
        settings.append(HTTP2Setting(parameter: .initialWindowSize, value: configuration.windowBytes))
        settings.append(HTTP2Setting(parameter: .maxHeaderListSize, value: 16 * 1024))
        var http2 = NIOHTTP2Handler.ConnectionConfiguration()
        http2.initialSettings = settings
        http2.controlFrameRateLimit = configuration.controlFrameRateLimit
        let inline = self.inline, streaming = self.streaming, plain = configuration.plain, connection = http2
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [weak self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard let self, self.track(channel) else { throw ChannelError.ioOnClosedChannel }
                        let sync = channel.pipeline.syncOperations
                        if let sslContext { try sync.addHandler(NIOSSLServerHandler(context: sslContext)) }
                        try sync.addHandler(ProtocolSniffer(http2: { channel in
                            let sync = channel.pipeline.syncOperations
                            try sync.addHandler(NIOHTTP2Handler(mode: .server, connectionConfiguration: connection))
                            try sync.addHandler(GRPCConnectionHandler(inline: inline, streaming: streaming, limits: limits, plain: plain) { sink.yield($0) })
                        }, http1: { channel in
                            let sync = channel.pipeline.syncOperations
                            try sync.addHandler(IdleStateHandler(allTimeout: HTTPResponderHandler.idleLimit))
                            try sync.configureHTTPServerPipeline(withErrorHandling: true)
                            try sync.addHandler(HTTPResponderHandler(responder: plain))
                        }))
                    }
                }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            bound.fail(error)
            throw error
        }
        let stopNow = state.withLock { s in
            s.listener = listener
            return s.shuttingDown
        }
        bound.succeed(listener.localAddress!)
        if stopNow { beginGracefulShutdown() }
        listener.closeFuture.whenComplete { _ in sink.finish() }
        await withDiscardingTaskGroup { group in
            for await call in calls {
                group.addTask { await call.run(streamHandler) }
            }
        }
    }

    /// Registers a new connection; `false` once the transport is stopping.
    private func track(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { s in
            if s.shuttingDown { return false }
            s.connections[id] = channel
            return true
        }
        if accepted {
            channel.closeFuture.whenComplete { [weak self] _ in
                _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
            }
        }
        return accepted
    }

    /// Stops listening and closes every connection: calls in progress end (their clients see
    /// the connection go and retry elsewhere, as etcd clients do).
    public func beginGracefulShutdown() {
        let (listener, connections) = state.withLock { s in
            s.shuttingDown = true
            return (s.listener, Array(s.connections.values))
        }
        listener?.close(promise: nil)
        for connection in connections { connection.close(promise: nil) }
    }
}
