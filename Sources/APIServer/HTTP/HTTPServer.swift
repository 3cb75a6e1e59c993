import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// The API server's listener: TLS with ALPN `h2` and `http/1.1`, HTTP/2 with many concurrent
/// streams per connection, HTTP/1.1 with keep-alive. Each request (each HTTP/2 stream) is
/// read whole, answered by the responder, and its response written; streamed responses are
/// flushed piece by piece and stop when the client goes away.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// The largest request body accepted; larger ones get 413.
        public var maxBodyBytes = 3 * 1024 * 1024
        /// HTTP/2 streams a client may have open at once on one connection.
        public var maxConcurrentStreams = 2000
        /// Timeouts, the connection cap and header limits.
        public var limits = HTTPLimits()

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// What a new connection negotiated, with the client certificate the TLS layer verified.
    typealias RequestChannel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    typealias Negotiated = NIONegotiatedHTTPVersion<(RequestChannel, ClientPeer),
                                                    (ClientPeer, NIOHTTP2Handler.AsyncStreamMultiplexer<RequestChannel>)>

    struct ClientPeer: Sendable {
        var certificate: [UInt8]?
        var address: String
    }

    let configuration: Configuration
    let sslContext: NIOSSLContext
    let responder: any HTTPResponder
    let logger: Logger
    /// Open, refused and timed-out connections (rendered in `/metrics`).
    public let metrics: ConnectionMetrics
    private let bound = PortPromise()

    public init(configuration: Configuration, sslContext: NIOSSLContext, responder: any HTTPResponder,
                metrics: ConnectionMetrics = ConnectionMetrics(), logger: Logger) {
        self.configuration = configuration
        self.sslContext = sslContext
        self.responder = responder
        self.metrics = metrics
        self.logger = logger
    }

    /// The port the server listens on, once it is bound.
    public func listeningPort() async throws -> Int { try await bound.value() }

    /// Binds and serves until cancelled.
    public func run() async throws {
        let sslContext = self.sslContext
        var http2 = NIOHTTP2Handler.Configuration()
        http2.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: configuration.limits.maxHeaderBytes),
            HTTP2Setting(parameter: .initialWindowSize, value: 1 << 20),
        ]
        http2.connection.targetWindowSize = 16 << 20
        http2.stream.targetWindowSize = 1 << 20
        http2.connection.maximumRecentlyResetStreams = 1000
        http2.stream.streamResetFrameRateLimit.maximumCount = 10_000
        let http2Configuration = http2
        let server: NIOAsyncChannel<EventLoopFuture<Negotiated>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 512)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    self.initialize(connection: channel, http2: http2Configuration)
                }
        } catch {
            bound.fail(error)
            throw error
        }
        bound.succeed(server.channel.localAddress?.port ?? configuration.port)
        try await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await negotiation in connections {
                    group.addTask { await self.serve(negotiation) }
                }
            }
        }
    }

    /// Sets up one accepted connection: counted against the cap (closed at once beyond it),
    /// TLS, ALPN, and the deadlines of ``HTTPLimits`` for each protocol. The handshake and
    /// negotiation must finish within the header timeout.
    private func initialize(connection channel: Channel,
                            http2: NIOHTTP2Handler.Configuration) -> EventLoopFuture<EventLoopFuture<Negotiated>> {
        let limits = configuration.limits, metrics = self.metrics, sslContext = self.sslContext
        guard metrics.admit(limit: limits.maxConnections) else {
            channel.close(promise: nil)
            return channel.eventLoop.makeSucceededFuture(channel.eventLoop.makeFailedFuture(HTTPServerError.connectionLimit))
        }
        channel.closeFuture.whenComplete { _ in metrics.closed() }
        let manager: NIOHTTP2ServerConnectionManagementHandler.HTTP2StreamDelegate
        let boundManager: NIOLoopBound<NIOHTTP2ServerConnectionManagementHandler>
        do {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
            // HTTP/2 connections are closed (GOAWAY first) once no stream has been open for the idle
            // timeout; HTTP2ConnectionReaper closes those whose client does not finish the close.
            let handler = NIOHTTP2ServerConnectionManagementHandler(
                eventLoop: channel.eventLoop,
                configuration: .init(maxIdleTime: limits.idleTimeout, maxAge: nil, maxGraceTime: limits.requestReadTimeout,
                                     keepalive: nil))
            manager = handler.http2StreamDelegate
            boundManager = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        } catch {
            channel.close(promise: nil)
            return channel.eventLoop.makeSucceededFuture(channel.eventLoop.makeFailedFuture(error))
        }
        return channel.configureAsyncHTTPServerPipeline(
            streamDelegate: manager,
            http2Configuration: http2,
            http1ConnectionInitializer: { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(InboundBytesSignal(), position: .after(try sync.handler(type: NIOSSLServerHandler.self)))
                    // Malformed requests are answered here, with a Status (serveHTTP1), not by NIO's plain 400.
                    sync.removeHandler(context: try sync.context(handlerType: HTTPServerProtocolErrorHandler.self), promise: nil)
                    try sync.addHandler(RequestDeadlineHandler(limits: limits, metrics: metrics))
                    let peer = Self.peer(of: channel)
                    return (try RequestChannel(wrappingChannelSynchronously: channel), peer)
                }
            },
            http2ConnectionInitializer: { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(HTTP2ConnectionReaper(grace: limits.readHeaderTimeout, metrics: metrics))
                    try sync.addHandler(boundManager.value)
                    // Its timers start on channelActive, which this channel passed before ALPN chose HTTP/2.
                    boundManager.value.channelActive(context: try sync.context(handler: boundManager.value))
                    return Self.peer(of: channel)
                }
            },
            http2StreamInitializer: { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                    try channel.pipeline.syncOperations.addHandler(RequestDeadlineHandler(limits: limits, metrics: metrics))
                    return try RequestChannel(wrappingChannelSynchronously: channel)
                }
            }
        ).map { negotiated in
            let handshake = channel.eventLoop.scheduleTask(in: limits.readHeaderTimeout) {
                metrics.closedBy(.handshakeTimeout)
                channel.close(promise: nil)
            }
            negotiated.whenComplete { _ in handshake.cancel() }
            return negotiated
        }
    }

    /// The verified client certificate of a TLS connection, read on its event loop.
    private static func peer(of channel: Channel) -> ClientPeer {
        let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        let certificate = try? handler?.peerCertificate?.toDERBytes()
        // The address and port alone (SocketAddress's description is "[IPv4]host/ip:port").
        var address = channel.remoteAddress?.description ?? ""
        if let ip = channel.remoteAddress?.ipAddress, let port = channel.remoteAddress?.port {
            address = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        }
        return ClientPeer(certificate: certificate, address: address)
    }

    private func serve(_ negotiation: EventLoopFuture<Negotiated>) async {
        do {
            switch try await negotiation.get() {
            case .http1_1(let (channel, peer)):
                try await serveHTTP1(channel, peer: peer)
            case .http2(let (peer, multiplexer)):
                try await withThrowingDiscardingTaskGroup { group in
                    for try await stream in multiplexer.inbound {
                        group.addTask {
                            do {
                                try await self.serveHTTP2Stream(stream, peer: peer)
                            } catch {
                                // One stream's failure (most often the client resetting it) ends that stream only.
                                self.logger.debug("HTTP/2 stream ended: \(error)", metadata: ["peer": "\(peer)"])
                            }
                        }
                    }
                }
            }
        } catch {
            logger.debug("connection ended: \(error)")
        }
    }

    private func serveHTTP1(_ channel: RequestChannel, peer: ClientPeer) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var parts = inbound.makeAsyncIterator()
            while true {
                let next: ReadRequest?
                do {
                    next = try await readRequest(&parts, peer: peer)
                } catch let error as HTTPParserError {
                    // Nothing of this request has been answered: say why, then close (its end is unknown).
                    let refusal = RequestFraming.refusal(for: error)
                    metrics.refusedRequest(code: refusal.code)
                    try await write(refusal.response, to: outbound, channel: channel.channel, version: .http1_1, keepAlive: false)
                    return
                }
                guard let read = next else { return }
                let response = await answer(read)
                if case .upgrade(let takeOver) = response.body {
                    // The connection is the responder's from here: it ends with the closure.
                    let bytes = try await Self.leaveHTTP(channel.channel)
                    try await takeOver(bytes)
                    return
                }
                try await write(response, to: outbound, channel: channel.channel, version: read.version, keepAlive: read.keepAlive)
                if !read.keepAlive { return }
            }
        }
    }

    private func serveHTTP2Stream(_ channel: RequestChannel, peer: ClientPeer) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var parts = inbound.makeAsyncIterator()
            guard let read = try await readRequest(&parts, peer: peer) else { return }
            let response = await answer(read)
            try await write(response, to: outbound, channel: channel.channel, version: read.version, keepAlive: true)
        }
    }

    /// Takes an HTTP/1.1 connection out of HTTP after an upgrade request: a ``ByteStream``
    /// goes in front of the connection's async wrapper, and every handler NIO's HTTP/1.1 server
    /// pipeline put between it and TLS (codec, pipelining helper, header validator) leaves, as
    /// do the request deadlines (an upgraded stream is never timed:
    /// the kubelet behind it has its own idle timeout).
    private static func leaveHTTP(_ channel: any Channel) async throws -> ByteStream {
        try await channel.eventLoop.submit {
            let sync = channel.pipeline.syncOperations
            let deadline = try sync.context(handlerType: RequestDeadlineHandler.self)
            let bytes = try ByteStream.attach(to: channel, position: .after(deadline.handler))
            sync.removeHandler(context: deadline, promise: nil)
            if let pipelining = try? sync.context(handlerType: HTTPServerPipelineHandler.self) {
                sync.removeHandler(context: pipelining, promise: nil)
            }
            if let validator = try? sync.context(handlerType: NIOHTTPResponseHeadersValidator.self) {
                sync.removeHandler(context: validator, promise: nil)
            }
            if let encoder = try? sync.context(handlerType: HTTPResponseEncoder.self) {
                sync.removeHandler(context: encoder, promise: nil)
            }
            if let decoder = try? sync.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                sync.removeHandler(context: decoder, promise: nil)
            }
            return bytes
        }.get()
    }

    private struct ReadRequest {
        var request: HTTPRequest
        var version: HTTPVersion
        var keepAlive: Bool
        /// The listener's own refusal (framing, header or body size), answered instead of routing.
        var refusal: StatusError?
    }

    /// Reads one request; `nil` when the client closed between requests.
    private func readRequest(_ parts: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator,
                             peer: ClientPeer) async throws -> ReadRequest? {
        guard let first = try await parts.next() else { return nil }
        guard case .head(let head) = first else { throw HTTPServerError.unexpectedPart }
        var body: [UInt8] = []
        var tooLarge = false
        let refusal = RequestFraming.refusal(for: head, limits: configuration.limits)
        if let refusal {
            metrics.refusedRequest(code: refusal.error.code)
            if refusal.mustClose {
                // The body's end is unknown: answer without reading further.
                let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: [],
                                          clientCertificate: peer.certificate, remoteAddress: peer.address)
                return ReadRequest(request: request, version: head.version, keepAlive: false, refusal: refusal.error)
            }
        }
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > configuration.maxBodyBytes {
            tooLarge = true
        }
        loop: while let part = try await parts.next() {
            switch part {
            case .body(var buffer):
                if !tooLarge {
                    if body.count + buffer.readableBytes > configuration.maxBodyBytes {
                        tooLarge = true
                        body = []
                    } else {
                        body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
                    }
                }
            case .end: break loop
            case .head: throw HTTPServerError.unexpectedPart
            }
        }
        let request = HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: body,
                                  clientCertificate: peer.certificate, remoteAddress: peer.address)
        if tooLarge {
            let error = refusal?.error ?? StatusError.requestEntityTooLarge(limit: configuration.maxBodyBytes)
            if refusal == nil { metrics.refusedRequest(code: error.code) }
            return ReadRequest(request: request, version: head.version, keepAlive: false, refusal: error)
        }
        return ReadRequest(request: request, version: head.version, keepAlive: head.isKeepAlive, refusal: refusal?.error)
    }

    private func answer(_ read: ReadRequest) async -> HTTPResponse {
        if let refusal = read.refusal { return refusal.response }
        return await responder.respond(to: read.request)
    }

    private func write(_ response: HTTPResponse, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                       channel: Channel, version: HTTPVersion, keepAlive: Bool) async throws {
        var head = HTTPResponseHead(version: version, status: response.status, headers: response.headers)
        switch response.body {
        case .bytes(let bytes):
            head.headers.replaceOrAdd(name: "content-length", value: String(bytes.count))
            if !keepAlive && version.major == 1 { head.headers.replaceOrAdd(name: "connection", value: "close") }
            try await outbound.write(contentsOf: [
                .head(head),
                .body(.byteBuffer(ByteBuffer(bytes: bytes))),
                .end(nil),
            ])
        case .upgrade:
            // HTTP/2 has no upgrades (clients dial HTTP/1.1 for exec, attach and port forwarding).
            let refusal = StatusError.badRequest("upgrade requests need HTTP/1.1; this request came over HTTP/\(version.major)").response
            try await write(refusal, to: outbound, channel: channel, version: version, keepAlive: keepAlive)
        case .stream(let produce):
            head.headers.remove(name: "content-length")
            try await outbound.write(.head(head))
            let (closed, closing) = AsyncStream<Void>.makeStream()
            channel.closeFuture.whenComplete { _ in closing.finish() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await produce(HTTPBodyWriter { bytes in
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                    })
                    try await outbound.write(.end(nil))
                }
                group.addTask {
                    for await _ in closed {}
                    throw CancellationError()
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }
}

enum HTTPServerError: Error {
    case unexpectedPart
    /// The connection was closed on accept: `HTTPLimits.maxConnections` are open.
    case connectionLimit
}
