import NIOCore
import NIOHTTP1

/// Serves an HTTP/1.1 connection through an ``HTTPResponder``: one answer per request, in
/// order (NIOHTTP1's pipelining handler in front holds later requests back). Request bodies
/// are dropped as they arrive, never gathered.
final class HTTPResponderHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A connection that neither sends nor is sent anything for this long is closed.
    static let idleLimit: TimeAmount = .seconds(60)

    private let responder: (any HTTPResponder)?
    private var request: HTTPRequestHead?
    private var context: ChannelHandlerContext?
    private var loopBound: NIOLoopBound<HTTPResponderHandler>?

    init(responder: (any HTTPResponder)?) {
        self.responder = responder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request, let loopBound else { return }
            request = nil
            guard let responder else {
                send(HTTPAnswer(status: 505, body: "only HTTP/2 (gRPC) is served here\n"), keepAlive: false, withBody: true)
                return
            }
            let path = String(head.uri.prefix(while: { $0 != "?" }))
            let method = head.method.rawValue, keepAlive = head.isKeepAlive
            Task {
                let answer = await responder.respond(method: method, path: path)
                loopBound.eventLoop.execute { loopBound.value.send(answer, keepAlive: keepAlive, withBody: method != "HEAD") }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request that does not parse has been answered 400 by NIOHTTP1's error handler;
    /// the connection then closes, as that answer says.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func send(_ answer: HTTPAnswer, keepAlive: Bool, withBody: Bool) {
        guard let context else { return }
        let body = context.channel.allocator.buffer(string: answer.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if withBody { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }
}
