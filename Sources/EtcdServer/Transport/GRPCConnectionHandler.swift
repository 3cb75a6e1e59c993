import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2

/// One HTTP/2 connection's gRPC calls, handled at the frame level on the connection's event
/// loop: a dictionary of open streams, no channel or task per stream. Inline unary methods
/// are answered here; every other call is a ``StreamedCall``, run by its inline streaming
/// method or by the server core.
///
/// Flow control is this handler's job (NIOHTTP2Handler leaves it to the layer above when it
/// has no stream multiplexer): received bytes are acknowledged with WINDOW_UPDATEs for the
/// connection and the stream once half the window has been used.
final class GRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// The sizes the handler enforces and advertises.
    struct Limits: Sendable {
        var maxMessageBytes: Int
        /// The flow-control window for the connection and for each stream.
        var windowBytes: Int
        /// Request messages a streamed call may have waiting for its handler.
        var bufferedMessages: Int
    }

    private enum Route {
        case inline(any InlineUnaryMethod)
        case streamed(StreamedCall)
    }

    private struct Call {
        var route: Route
        var deframer: GRPCDeframer
        var request: [UInt8]? = nil
        var unacknowledged = 0
        var responseStarted = false
    }

    private let inline: [String: any InlineUnaryMethod]
    private let streaming: [String: any InlineStreamingMethod]
    private let limits: Limits
    /// Answers requests that are not gRPC (etcd's `/metrics` over HTTP/2); without it they get 415.
    private let plain: (any HTTPResponder)?
    private let accept: @Sendable (StreamedCall) -> Void
    private var calls: [HTTP2StreamID: Call] = [:]
    private var connectionUnacknowledged = 0
    private var connectionWindowOpened = false
    private var context: ChannelHandlerContext?
    /// This handler as something other threads may hand work to (made once, in `handlerAdded`).
    private var loopBound: NIOLoopBound<GRPCConnectionHandler>?
    private var reading = false
    private var flushScheduled = false
    private var remotePeer = ""
    private var localPeer = ""

    init(inline: [String: any InlineUnaryMethod], streaming: [String: any InlineStreamingMethod], limits: Limits,
         plain: (any HTTPResponder)? = nil, accept: @escaping @Sendable (StreamedCall) -> Void) {
        self.inline = inline
        self.streaming = streaming
        self.limits = limits
        self.plain = plain
        self.accept = accept
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        remotePeer = Self.describe(context.channel.remoteAddress)
        localPeer = Self.describe(context.channel.localAddress)
        if context.channel.isActive { openConnectionWindow(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        openConnectionWindow(context)
        context.fireChannelActive()
    }

    /// The connection's window starts at 64 KiB whatever the settings say; it is raised to
    /// the configured size once.
    private func openConnectionWindow(_ context: ChannelHandlerContext) {
        let increment = limits.windowBytes - 65_535
        guard increment > 0, !connectionWindowOpened else { return }
        connectionWindowOpened = true
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))), promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .headers(let headers): received(headers, on: frame.streamID)
        case .data(let payload): received(payload, on: frame.streamID)
        case .rstStream: end(frame.streamID, cancelling: RPCError(code: .cancelled, message: "the client reset the stream"))
        default: break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        context.flush()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let closed = event as? StreamClosedEvent {
            end(closed.streamID, cancelling: RPCError(code: .cancelled, message: "the stream closed"))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = RPCError(code: .unavailable, message: "the connection closed")
        for id in Array(calls.keys) { end(id, cancelling: error) }
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Connection-level protocol errors close the connection (NIOHTTP2Handler has sent
        // GOAWAY); stream-level ones arrive as StreamClosedEvents.
        if error is NIOHTTP2Errors.StreamError { return }
        context.close(promise: nil)
    }

    private func received(_ payload: HTTP2Frame.FramePayload.Headers, on id: HTTP2StreamID) {
        if calls[id] != nil {
            // Trailers from the client end its side.
            if payload.endStream { endOfRequests(id) }
            return
        }
        let headers = payload.headers
        guard let contentType = headers.first(name: "content-type"), contentType.hasPrefix("application/grpc") else {
            let path = String((headers.first(name: ":path") ?? "").prefix { $0 != "?" })
            // A method's path (/service/method) without gRPC's content type is a bad gRPC
            // call; any other path is a plain request (its body, if any, is not read).
            if let plain, let connection = loopBound, Self.descriptor(path) == nil {
                let method = headers.first(name: ":method") ?? ""
                Task {
                    let answer = await plain.respond(method: method, path: path)
                    connection.eventLoop.execute { connection.value.answerPlain(id, answer, withBody: method != "HEAD") }
                }
            } else {
                write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: [":status": "415"], endStream: true))))
            }
            return
        }
        if let encoding = headers.first(name: "grpc-encoding"), encoding != "identity" {
            refuse(id, RPCError(code: .unimplemented, message: "compression '\(encoding)' is not supported"))
            return
        }
        let path = headers.first(name: ":path") ?? ""
        let deframer = GRPCDeframer(maxMessageBytes: limits.maxMessageBytes)
        if let method = inline[path] {
            calls[id] = Call(route: .inline(method), deframer: deframer)
        } else {
            guard let descriptor = Self.descriptor(path) else {
                refuse(id, RPCError(code: .unimplemented, message: "no method at path '\(path)'"))
                return
            }
            let writer = GRPCStreamWriter(connection: loopBound!, streamID: id)
            let metadata = GRPCHeaders.metadata(of: headers)
            let call = StreamedCall(descriptor: descriptor, method: streaming[path], bufferedMessages: limits.bufferedMessages, writer: writer,
                                    remotePeer: remotePeer, localPeer: localPeer, metadata: metadata)
            call.requests.yield(.metadata(metadata))
            calls[id] = Call(route: .streamed(call), deframer: deframer)
            accept(call)
        }
        if payload.endStream { endOfRequests(id) }
    }

    private func received(_ payload: HTTP2Frame.FramePayload.Data, on id: HTTP2StreamID) {
        guard case .byteBuffer(let bytes) = payload.data else { return }
        let length = bytes.readableBytes + (payload.paddingBytes.map { $0 + 1 } ?? 0)
        acknowledgeConnection(length)
        // Taken out of the dictionary while it changes, so that appending to its buffer
        // does not copy what has accumulated (copy-on-write).
        guard var call = calls.removeValue(forKey: id) else { return }
        call.unacknowledged += length
        if call.unacknowledged >= limits.windowBytes / 2, !payload.endStream {
            write(HTTP2Frame(streamID: id, payload: .windowUpdate(windowSizeIncrement: call.unacknowledged)))
            call.unacknowledged = 0
        }
        call.deframer.append(bytes)
        do {
            while let message = try call.deframer.next() {
                switch call.route {
                case .inline:
                    guard call.request == nil else {
                        calls[id] = call
                        refuse(id, RPCError(code: .internalError, message: "a unary call got more than one request"))
                        return
                    }
                    call.request = message
                case .streamed(let streamed):
                    if case .dropped = streamed.requests.yield(.message(message)) {
                        calls[id] = call
                        refuse(id, RPCError(code: .resourceExhausted, message: "too many requests waiting on the stream"))
                        return
                    }
                }
            }
        } catch {
            calls[id] = call
            switch error {
            case .tooLarge(let size):
                refuse(id, RPCError(code: .resourceExhausted,
                                    message: "a request of \(size) bytes is larger than the limit of \(limits.maxMessageBytes) bytes"))
            case .compressed:
                refuse(id, RPCError(code: .internalError, message: "a compressed request, but no compression was negotiated"))
            }
            return
        }
        calls[id] = call
        if payload.endStream { endOfRequests(id) }
    }

    private func acknowledgeConnection(_ length: Int) {
        connectionUnacknowledged += length
        if connectionUnacknowledged >= limits.windowBytes / 2 {
            write(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: connectionUnacknowledged)))
            connectionUnacknowledged = 0
        }
    }

    /// The client finished sending: an inline call starts; a streamed call's requests end.
    private func endOfRequests(_ id: HTTP2StreamID) {
        guard let call = calls[id] else { return }
        switch call.route {
        case .streamed(let streamed):
            if call.deframer.hasPartialMessage {
                streamed.requests.finish(throwing: RPCError(code: .internalError, message: "the request stream ended inside a message"))
            } else {
                streamed.requests.finish()
            }
        case .inline(let method):
            guard let request = call.request, !call.deframer.hasPartialMessage else {
                refuse(id, RPCError(code: .internalError, message: "a unary call ended without a whole request"))
                return
            }
            calls[id]?.request = nil
            let connection = loopBound!
            method.call(request) { result in
                connection.eventLoop.execute { connection.value.answer(id, result) }
            }
        }
    }

    /// Forgets a stream; a streamed call still running is cancelled.
    private func end(_ id: HTTP2StreamID, cancelling error: RPCError) {
        guard let call = calls.removeValue(forKey: id) else { return }
        if case .streamed(let streamed) = call.route { streamed.cancel(error) }
    }

    // MARK: Outbound

    /// Answers an inline call, if its stream is still open.
    private func answer(_ id: HTTP2StreamID, _ result: Result<[UInt8], RPCError>) {
        guard calls.removeValue(forKey: id) != nil, let context else { return }
        switch result {
        case .success(let message):
            write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: GRPCHeaders.ok))))
            let data = GRPCDeframer.frame(message, allocator: context.channel.allocator)
            write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(data)))))
            write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: Self.okTrailers, endStream: true))))
        case .failure(let error):
            write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: GRPCHeaders.trailers(error, trailersOnly: true), endStream: true))))
        }
        scheduleFlush()
    }

    /// Answers a plain (not gRPC) request: headers, then the body in one DATA frame, which
    /// NIOHTTP2Handler splits and paces by the peer's frame size and window.
    private func answerPlain(_ id: HTTP2StreamID, _ answer: HTTPAnswer, withBody: Bool) {
        guard let context else { return }
        let body = context.channel.allocator.buffer(string: answer.body)
        let headers: HPACKHeaders = [":status": String(answer.status), "content-type": answer.contentType,
                                     "content-length": String(body.readableBytes)]
        write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: !withBody))))
        if withBody { write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(body), endStream: true)))) }
        scheduleFlush()
    }

    /// Writes what a streamed call's writer has queued, then flushes once. Messages queued
    /// back to back go out in one DATA frame (HTTP/2 splits it where the peer's frame size
    /// or window requires), so a burst of small responses costs one frame, not one each.
    /// The last frame's promise tells the queue when the bytes are on the socket.
    func drain(_ queue: OutboundQueue, on id: HTTP2StreamID) {
        let (parts, bytes) = queue.take()
        guard let context else {
            queue.written(bytes, .failure(RPCError(code: .unavailable, message: "the connection closed")))
            return
        }
        guard !parts.isEmpty else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { queue.written(bytes, $0) }
        var data: ByteBuffer?
        for (index, part) in parts.enumerated() {
            if case .message(let message) = part {
                if data == nil { data = context.channel.allocator.buffer(capacity: min(bytes, 1 << 16)) }
                GRPCDeframer.append(message, to: &data!)
                continue
            }
            if let pending = data.take() { sendData(pending, on: id, promise: nil) }
            send(part, on: id, promise: index == parts.count - 1 ? promise : nil)
        }
        // Messages at the end: their frame is the last one written.
        if let pending = data.take() { sendData(pending, on: id, promise: promise) }
    }

    /// Writes framed messages of a streamed call as one DATA frame, after the response
    /// headers if none were sent yet.
    private func sendData(_ data: ByteBuffer, on id: HTTP2StreamID, promise: EventLoopPromise<Void>?) {
        guard var call = calls[id] else {
            promise?.fail(RPCError(code: .cancelled, message: "the stream is closed"))
            return
        }
        if !call.responseStarted {
            call.responseStarted = true
            calls[id] = call
            write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: GRPCHeaders.ok))))
        }
        write(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(data)))), promise: promise)
        scheduleFlush()
    }

    /// Writes one response part of a streamed call.
    private func send(_ part: RPCResponsePart<[UInt8]>, on id: HTTP2StreamID, promise: EventLoopPromise<Void>?) {
        guard var call = calls[id], let context else {
            promise?.fail(RPCError(code: .cancelled, message: "the stream is closed"))
            return
        }
        switch part {
        case .metadata(let metadata):
            call.responseStarted = true
            calls[id] = call
            write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: GRPCHeaders.response(metadata)))), promise: promise)
        case .message(let message):
            sendData(GRPCDeframer.frame(message, allocator: context.channel.allocator), on: id, promise: promise)
            return
        case .status(let status, let metadata):
            calls[id] = nil
            let trailers = GRPCHeaders.trailers(status, metadata, trailersOnly: !call.responseStarted)
            write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: trailers, endStream: true))), promise: promise)
        }
        scheduleFlush()
    }

    /// Ends a streamed call with `error` unless its status has been written.
    func finish(_ id: HTTP2StreamID, ifOpenWith error: RPCError) {
        guard calls[id] != nil else { return }
        send(.status(Status(error), error.metadata), on: id, promise: nil)
    }

    /// Refuses a call with a trailers-only answer and forgets it.
    private func refuse(_ id: HTTP2StreamID, _ error: RPCError) {
        let started = calls[id]?.responseStarted ?? false
        end(id, cancelling: error)
        write(HTTP2Frame(streamID: id, payload: .headers(.init(headers: GRPCHeaders.trailers(error, trailersOnly: !started),
                                                                endStream: true))))
        scheduleFlush()
    }

    private func write(_ frame: HTTP2Frame, promise: EventLoopPromise<Void>? = nil) {
        guard let context else {
            promise?.fail(RPCError(code: .unavailable, message: "the connection closed"))
            return
        }
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    /// Writes made outside a read are flushed once, after the other tasks queued on the loop.
    private func scheduleFlush() {
        guard !reading, !flushScheduled, let connection = loopBound else { return }
        flushScheduled = true
        connection.eventLoop.execute {
            connection.value.flushScheduled = false
            connection.value.context?.flush()
        }
    }

    // MARK: Helpers

    private static let okTrailers: HPACKHeaders = ["grpc-status": "0"]

    /// `/package.Service/Method` as a method descriptor.
    static func descriptor(_ path: String) -> MethodDescriptor? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return MethodDescriptor(fullyQualifiedService: String(parts[1]), method: String(parts[2]))
    }

    private static func describe(_ address: SocketAddress?) -> String {
        switch address {
        case .v4(let a)?: return "ipv4:\(a.host):\(address?.port ?? 0)"
        case .v6(let a)?: return "ipv6:[\(a.host)]:\(address?.port ?? 0)"
        case .unixDomainSocket?: return "unix:\(address?.pathname ?? "")"
        case nil: return "unknown"
        }
    }
}
