import NIOCore

/// A connection carried as plain bytes both ways: a client's HTTP/1.1 connection once an
/// upgrade has taken it over from HTTP (exec, attach, port forwarding), or a connection Skiff
/// dialled to a kubelet. Reads arrive in ``inbound`` with backpressure: the socket is not read
/// while more than ``bufferLimit`` bytes wait to be taken.
public final class ByteStream: Sendable {
    /// Bytes read and not yet taken, above which the socket is not read.
    public static let bufferLimit = 256 * 1024

    let channel: any Channel
    private let handler: NIOLoopBound<ByteStreamHandler>
    private let stream: AsyncThrowingStream<ByteBuffer, any Error>

    /// Puts a ``ByteStreamHandler`` into `channel`'s pipeline at `position`; call on its event loop.
    static func attach(to channel: any Channel, position: ChannelPipeline.SynchronousOperations.Position = .last) throws -> ByteStream {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let handler = ByteStreamHandler(continuation: continuation)
        try channel.pipeline.syncOperations.addHandler(handler, position: position)
        // However the connection ends (even before the handler saw it active), the reads end.
        channel.closeFuture.whenComplete { _ in continuation.finish() }
        return ByteStream(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), stream: stream)
    }

    private init(channel: any Channel, handler: NIOLoopBound<ByteStreamHandler>,
                 stream: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.channel = channel
        self.handler = handler
        self.stream = stream
    }

    /// The bytes the peer sends, chunk by chunk, until it closes (or the connection fails).
    public var inbound: Inbound { Inbound(stream: stream, owner: self) }

    /// Writes and flushes; returns once the bytes are handed to the socket.
    public func write(_ buffer: ByteBuffer) async throws {
        let handler = self.handler, loop = channel.eventLoop
        try await loop.flatSubmit {
            handler.value.write(buffer, on: loop)
        }.get()
    }

    public func write(_ bytes: [UInt8]) async throws {
        try await write(ByteBuffer(bytes: bytes))
    }

    /// Closes the connection (both ways).
    public func close() {
        channel.close(promise: nil)
    }

    /// A deadline: closes the connection after `delay` unless the returned task is cancelled
    /// first (reads then end, and a reader waiting on them fails).
    public func closeAfter(_ delay: TimeAmount) -> Scheduled<Void> {
        let channel = self.channel
        return channel.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }

    fileprivate func consumed(_ count: Int) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.consumed(count) }
    }

    /// The inbound chunks; taking one lets the socket be read again once the buffer has room.
    public struct Inbound: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer
        let stream: AsyncThrowingStream<ByteBuffer, any Error>
        let owner: ByteStream

        public func makeAsyncIterator() -> Iterator { Iterator(base: stream.makeAsyncIterator(), owner: owner) }

        public struct Iterator: AsyncIteratorProtocol {
            var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
            let owner: ByteStream

            public mutating func next() async throws -> ByteBuffer? {
                try await next(isolation: nil)
            }

            /// Reads on the caller's actor (an actor may keep the iterator).
            public mutating func next(isolation actor: isolated (any Actor)?) async throws -> ByteBuffer? {
                guard let buffer = try await base.next(isolation: actor) else { return nil }
                owner.consumed(buffer.readableBytes)
                return buffer
            }
        }
    }
}

/// The pipeline's end for a ``ByteStream``: hands reads to the stream (holding further reads
/// while its buffer is full) and writes through its own context, so that no handler behind it
/// (an HTTP connection's async wrapper) sees bytes it does not expect.
final class ByteStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private var context: ChannelHandlerContext?
    private var buffered = 0
    private var readPending = false

    init(continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) {
        self.continuation = continuation
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        continuation.finish()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffered += buffer.readableBytes
        continuation.yield(buffer)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The peer's half-close ends the inbound bytes; TLS's close_notify arrives as inactive.
        if let event = event as? ChannelEvent, event == .inputClosed { continuation.finish() }
    }

    func read(context: ChannelHandlerContext) {
        if buffered > ByteStream.bufferLimit {
            readPending = true
        } else {
            context.read()
        }
    }

    func consumed(_ count: Int) {
        buffered = max(0, buffered - count)
        if readPending, buffered <= ByteStream.bufferLimit, let context {
            readPending = false
            context.read()
        }
    }

    func write(_ buffer: ByteBuffer, on loop: any EventLoop) -> EventLoopFuture<Void> {
        guard let context else { return loop.makeFailedFuture(ByteStreamClosed()) }
        return context.writeAndFlush(wrapOutboundOut(buffer))
    }
}

/// The connection behind a ``ByteStream`` is gone.
struct ByteStreamClosed: Error {}
