import GRPCCore
import Synchronization

/// A call the transport hands to the server core (every method that is not an
/// ``InlineUnaryMethod``): its request parts flow in through `inbound`, and the connection can
/// cancel it.
final class StreamedCall: Sendable {
    typealias Inbound = AsyncThrowingStream<RPCRequestPart<[UInt8]>, any Error>

    private enum Cancellation {
        case waiting
        case attached(ServerContext.RPCCancellationHandle)
        case cancelled
    }

    let descriptor: MethodDescriptor
    let inbound: Inbound
    let requests: Inbound.Continuation
    let writer: GRPCStreamWriter
    let remotePeer: String
    let localPeer: String
    private let cancellation = Mutex(Cancellation.waiting)

    init(descriptor: MethodDescriptor, bufferedMessages: Int, writer: GRPCStreamWriter, remotePeer: String, localPeer: String) {
        self.descriptor = descriptor
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

    /// Runs the call in the server core.
    func run(_ handler: @Sendable (RPCStream<RPCAsyncSequence<RPCRequestPart<[UInt8]>, any Error>,
                                             RPCWriter<RPCResponsePart<[UInt8]>>.Closable>, ServerContext) async -> Void) async {
        await withServerContextRPCCancellationHandle { handle in
            attach(handle)
            let stream = RPCStream(descriptor: descriptor, inbound: RPCAsyncSequence(wrapping: inbound),
                                   outbound: RPCWriter.Closable(wrapping: writer))
            let context = ServerContext(descriptor: descriptor, remotePeer: remotePeer, localPeer: localPeer, cancellation: handle)
            await handler(stream, context)
        }
    }
}
