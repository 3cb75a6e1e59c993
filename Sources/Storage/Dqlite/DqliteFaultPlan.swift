import NIOCore

/// A failure of the wire, made on purpose: how tests cut a connection at the worst moment of
/// a write. Asked about the SQL text of each request a connection sends (EXEC_SQL and
/// QUERY_SQL), a plan may lose the request or its answer.
public protocol DqliteFaultPlan: Sendable {
    /// What happens to a request with this SQL text (nil: it goes through).
    func fault(forSQL sql: String) -> DqliteFault?
}

/// The two halves of an ambiguous commit.
public enum DqliteFault: Sendable, Equatable {
    /// The connection closes before the request is sent: the node never sees it.
    case loseRequest
    /// The request reaches the node; the connection closes before its answer is read.
    case loseAnswer
}

/// Carries out a ``DqliteFaultPlan`` on one connection, between the frame decoder and the
/// handler that matches answers to requests.
final class DqliteFaultHandler: ChannelDuplexHandler {
    typealias InboundIn = (UInt8, ByteBuffer)
    typealias InboundOut = (UInt8, ByteBuffer)
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let plan: any DqliteFaultPlan
    private var sent = 0
    private var answered = 0
    /// The number of the request whose answer is to be lost.
    private var losing: Int?

    init(plan: any DqliteFaultPlan) { self.plan = plan }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        // The protocol version that opens the connection is not a request: nothing answers it.
        guard Self.isRequest(frame) else {
            context.write(data, promise: promise)
            return
        }
        switch Self.sql(of: frame).flatMap(plan.fault(forSQL:)) {
        case .loseRequest?:
            promise?.fail(ChannelError.ioOnClosedChannel)
            context.close(promise: nil)
            return
        case .loseAnswer?:
            sent += 1
            losing = sent
        case nil:
            sent += 1
        }
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let (type, body) = unwrapInboundIn(data)
        // A result's frames but the last are parts of one answer.
        let part = type == DqliteWire.Response.rows.rawValue && body.readableBytes >= 8
            && body.getInteger(at: body.writerIndex - 8, endianness: .little, as: UInt64.self) == DqliteWire.rowsPart
        if !part { answered += 1 }
        if let losing, answered >= losing {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    /// Whether bytes written are one request frame (a header whose length matches).
    static func isRequest(_ frame: ByteBuffer) -> Bool {
        guard let words = frame.getInteger(at: frame.readerIndex, endianness: .little, as: UInt32.self) else { return false }
        return frame.readableBytes == 8 + Int(words) * 8
    }

    /// The SQL text of an EXEC_SQL or QUERY_SQL frame (header, database ID, text).
    static func sql(of frame: ByteBuffer) -> String? {
        guard let type = frame.getInteger(at: frame.readerIndex + 4, as: UInt8.self),
              type == DqliteWire.Request.execSQL.rawValue || type == DqliteWire.Request.querySQL.rawValue,
              let body = frame.getSlice(at: frame.readerIndex + 8, length: frame.readableBytes - 8) else { return nil }
        var reader = DqliteMessageReader(body)
        guard (try? reader.uint64()) != nil else { return nil }
        return try? reader.text()
    }
}
