import NIOCore
import NIOHPACK
import NIOHTTP2

/// Closes HTTP/2 connections that are finished but still open. It sits between the HTTP/2
/// handler and the connection manager that closes idle connections:
/// - the manager's graceful close waits for the client to answer a PING, which a client that
///   never reads never does: once the first GOAWAY goes out (the connection is idle: counted
///   as such), the connection is closed outright after `grace` if it is still open;
/// - after a connection error (a malformed frame or header block, a flood) the HTTP/2 handler
///   sends GOAWAY but leaves the socket open: it is closed at once.
final class HTTP2ConnectionReaper: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let grace: TimeAmount
    private let metrics: ConnectionMetrics
    private var timer: Scheduled<Void>?

    init(grace: TimeAmount, metrics: ConnectionMetrics) {
        self.grace = grace
        self.metrics = metrics
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if timer == nil, case .goAway = unwrapOutboundIn(data).payload {
            metrics.closedBy(.idle)
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: grace) {
                context.close(promise: nil)
            }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if Self.endsConnection(error) {
            metrics.closedBy(.protocolError)
            context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    /// The errors after which the HTTP/2 handler has sent GOAWAY and serves nothing more.
    private static func endsConnection(_ error: Error) -> Bool {
        if error is any NIOHPACKError { return true }
        switch error {
        case is NIOHTTP2Errors.UnableToParseFrame, is NIOHTTP2Errors.BadClientMagic, is NIOHTTP2Errors.MissingPreface,
             is NIOHTTP2Errors.ExcessiveOutboundFrameBuffering, is NIOHTTP2Errors.ExcessiveEmptyDataFrames,
             is NIOHTTP2Errors.ExcessiveNumberOfGlitches, is NIOHTTP2Errors.ExcessivelyLargeHeaderBlock,
             is NIOHTTP2Errors.ExcessiveRSTFrames, is NIOHTTP2Errors.ExcessiveControlFrames,
             is NIOHTTP2Errors.ExcessiveContinuationFrames, is NIOHTTP2Errors.ExcessiveStreamErrors,
             is NIOHTTP2Errors.ReceivedBadSettings, is NIOHTTP2Errors.InvalidSetting,
             is NIOHTTP2Errors.StreamIDTooSmall, is NIOHTTP2Errors.InvalidStreamIDForPeer:
            return true
        default:
            return false
        }
    }
}
