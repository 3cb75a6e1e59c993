import NIOCore
import NIOHTTP1

/// Closes an HTTP/1.1 connection (or an HTTP/2 stream) whose client is too slow: no request
/// within the idle timeout after the last response, a header not complete within the header
/// timeout of its first byte, or a body not complete within the request timeout of its
/// header. The response side is never timed: a watch may stream for as long as it likes.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests; `started` once a byte of the next one has arrived.
        case awaitingHead(started: Bool)
        case readingBody
        case responding
    }

    private let limits: HTTPLimits
    private let metrics: ConnectionMetrics
    private var state = State.awaitingHead(started: true)
    private var timer: Scheduled<Void>?

    init(limits: HTTPLimits, metrics: ConnectionMetrics) {
        self.limits = limits
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // A new connection (or stream): its first request's header is already on its way.
        arm(context: context, after: limits.readHeaderTimeout, reason: .headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            state = .readingBody
            arm(context: context, after: limits.requestReadTimeout, reason: .bodyTimeout)
        case .body:
            break
        case .end:
            state = .responding
            disarm()
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is InboundBytesSignal.Arrived, case .awaitingHead(started: false) = state {
            state = .awaitingHead(started: true)
            arm(context: context, after: limits.readHeaderTimeout, reason: .headerTimeout)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), case .responding = state {
            state = .awaitingHead(started: false)
            arm(context: context, after: limits.idleTimeout, reason: .idle)
        }
        context.write(data, promise: promise)
    }

    private func arm(context: ChannelHandlerContext, after delay: TimeAmount, reason: ConnectionMetrics.Closure) {
        timer?.cancel()
        let metrics = self.metrics
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            metrics.closedBy(reason)
            context.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
