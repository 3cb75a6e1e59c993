import GRPCCore
import Synchronization

/// A streamed call: one the transport runs itself (an ``InlineStreamingMethod``) or hands
/// to the server core (every other method that is not an ``InlineUnaryMethod``). Its request
/// parts flow in through `inbound`, and the connection can cancel it.
final class StreamedCall: Sendable {
    typealias Inbound = AsyncThrowingStream<RPCRequestPart<[UInt8]>, any Error>

    private enum Cancellation {
        case waiting
        case attached(ServerContext.RPCCancellationHandle)
        case cancelled
    }

    let descriptor: MethodDescriptor
    /// The method when the transport runs it; `nil` for the server core.
    let method: (any InlineStreamingMethod)?
    let inbound: Inbound
    let requests: Inbound.Continuation
    let writer: GRPCStreamWriter
    let remotePeer: String
    let localPeer: String
    /// The call's request metadata (its headers, less the reserved ones).
    let metadata: Metadata
    private let cancellation = Mutex(Cancellation.waiting)

    init(descriptor: MethodDescriptor, method: (any InlineStreamingMethod)?, bufferedMessages: Int, writer: GRPCStreamWriter,
         remotePeer: String, localPeer: String, metadata: Metadata) {
        self.descriptor = descriptor
        self.metadata = metadata
        self.method = method
        (inbound, requests) = Inbound.makeStream(bufferingPolicy: .bufferingOldest(bufferedMessages))
        self.writer = writer
        self.remotePeer = remotePeer
        self.localPeer = localPeer
    }

    /// Ties the server core's cancellation handle to the call; a call already cancelled is
    /// cancelled at once.
    func attach(_ handle: ServerContext.RPCCancellationHandle) {
        let cancelNow = cancellation.withLock { state -> Bool in
            if case .cancelled = state { return true }
            state = .attached(handle)
            return false
        }
        if cancelNow { handle.cancel() }
    }

    /// The peer reset the stream or the connection went away: the request stream fails and
    /// the handler is told the call is cancelled.
    func cancel(_ error: RPCError) {
        requests.finish(throwing: error)
        let handle: ServerContext.RPCCancellationHandle? = cancellation.withLock { state in
            defer { state = .cancelled }
            if case .attached(let h) = state { return h }
            return nil
        }
        handle?.cancel()
    }

    /// Runs the call: its own method, or else `handler` (the server core).
    func run(_ handler: @Sendable (RPCStream<RPCAsyncSequence<RPCRequestPart<[UInt8]>, any Error>,
                                             RPCWriter<RPCResponsePart<[UInt8]>>.Closable>, ServerContext) async -> Void) async {
        await withServerContextRPCCancellationHandle { handle in
            attach(handle)
            if let method {
                await serve(method, cancellation: handle)
                return
            }
            let stream = RPCStream(descriptor: descriptor, inbound: RPCAsyncSequence(wrapping: inbound),
                                   outbound: RPCWriter.Closable(wrapping: writer))
            let context = ServerContext(descriptor: descriptor, remotePeer: remotePeer, localPeer: localPeer, cancellation: handle)
            await handler(stream, context)
        }
    }

    /// Runs an inline method until it ends, or until the call is cancelled, which cancels it.
    /// Its outcome is the call's status.
    private func serve(_ method: any InlineStreamingMethod, cancellation handle: ServerContext.RPCCancellationHandle) async {
        // The response headers go at once, as the server core sends them: some clients wait
        // for them before they count a stream as started.
        try? writer.enqueue(.metadata([:]))
        let output = StreamOutput(writer: writer)
        let requests = StreamRequests(parts: inbound, metadata: metadata), writer = self.writer
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await method.serve(requests: requests, output: output)
                    writer.finishOK()
                } catch {
                    await writer.finish(throwing: error)
                }
            }
            group.addTask { try? await handle.cancelled }
            await group.next()
            group.cancelAll()
        }
    }
}
