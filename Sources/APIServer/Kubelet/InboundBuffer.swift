import NIOCore

/// The bytes read from a ``ByteStream`` and not yet taken, for the frame readers (WebSocket,
/// SPDY): ``need(_:)`` reads until enough are buffered, ``take(_:)`` consumes them.
struct InboundBuffer {
    private var iterator: ByteStream.Inbound.Iterator
    private var bytes: [UInt8]
    private var start = 0

    /// Reads `stream`, after `leftover` (bytes already read with an HTTP answer).
    init(_ stream: ByteStream, leftover: [UInt8] = []) {
        iterator = stream.inbound.makeAsyncIterator()
        bytes = leftover
    }

    /// The byte `offset` places past the first one not yet taken (call after ``need(_:)``).
    subscript(offset: Int) -> UInt8 { bytes[start + offset] }

    /// `count` bytes from `offset`, not taken.
    func peek(_ offset: Int, _ count: Int) -> [UInt8] { Array(bytes[(start + offset)..<(start + offset + count)]) }

    /// Reads until `count` bytes are buffered; false when the stream ends first.
    mutating func need(_ count: Int) async throws -> Bool {
        while bytes.count - start < count {
            guard let chunk = try await iterator.next() else { return false }
            if start > 0 {
                bytes.removeFirst(start)
                start = 0
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return true
    }

    /// Takes the next `count` bytes (call after ``need(_:)``).
    mutating func take(_ count: Int) -> [UInt8] {
        let taken = peek(0, count)
        start += count
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        return taken
    }
}
