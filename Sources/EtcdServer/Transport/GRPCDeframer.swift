import NIOCore

/// Cuts gRPC's length-prefixed messages (a compressed flag, a 4-byte big-endian length,
/// the bytes) out of a stream's DATA frames, however the frames split them.
public struct GRPCDeframer {
    /// Why the stream's bytes cannot be read as messages.
    enum Failure: Error, Equatable {
        /// A message longer than the limit was announced.
        case tooLarge(Int)
        /// A message is compressed; no compression was negotiated.
        case compressed
    }

    /// The bytes not yet cut into messages; the first frame's buffer is taken as it is.
    private var buffer = ByteBuffer()
    private let maxMessageBytes: Int

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Adds a frame's bytes.
    mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            var bytes = bytes
            buffer.writeBuffer(&bytes)
        }
    }

    /// The next whole message, or `nil` until more bytes arrive.
    mutating func next() throws(Failure) -> [UInt8]? {
        guard let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self) else { return nil }
        if flag != 0 { throw .compressed }
        if Int(length) > maxMessageBytes { throw .tooLarge(Int(length)) }
        guard buffer.readableBytes >= 5 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let message = buffer.readBytes(length: Int(length))!
        if buffer.readableBytes == 0 { buffer.clear() }
        return message
    }

    /// Whether bytes of an unfinished message are waiting.
    var hasPartialMessage: Bool { buffer.readableBytes > 0 }

    /// `message` with gRPC's 5-byte prefix (uncompressed), ready for a DATA frame.
    public static func frame(_ message: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: 5 + message.count)
        append(message, to: &out)
        return out
    }

    /// Appends `message`, length-prefixed and uncompressed, to `buffer`.
    public static func append(_ message: [UInt8], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
    }
}
