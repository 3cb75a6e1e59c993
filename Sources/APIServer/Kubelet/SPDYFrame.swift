import NIOCore

/// The SPDY/3.1 frames a remote-command client exchanges with a kubelet (section 2.2 of the
/// draft): data, and the control frames SYN_STREAM, SYN_REPLY, RST_STREAM, PING, GOAWAY and
/// HEADERS; SETTINGS and WINDOW_UPDATE are read and passed over (kubelets send no flow
/// control that a client must honour).
enum SPDYFrame {
    case data(stream: UInt32, payload: [UInt8], fin: Bool)
    case synStream(stream: UInt32, headers: [(name: String, value: String)], fin: Bool)
    case synReply(stream: UInt32, headers: [(name: String, value: String)], fin: Bool)
    case headers(stream: UInt32, headers: [(name: String, value: String)], fin: Bool)
    case rstStream(stream: UInt32, status: UInt32)
    case ping(id: UInt32)
    case goAway(lastGoodStream: UInt32, status: UInt32)
    case other(type: UInt16)

    static let version: UInt16 = 3
    static let flagFin: UInt8 = 0x01
    /// The largest frame payload read (the format allows 16 MiB).
    static let payloadLimit = 1 << 20

    /// A SYN_STREAM opening `stream` with `headers`, compressed with the connection's compressor.
    static func synStream(_ stream: UInt32, headers: [(name: String, value: String)], fin: Bool = false,
                          compressor: SPDYHeaderCompressor) throws -> [UInt8] {
        let block = try compressor.compress(SPDYHeaderBlock.encode(headers))
        // Stream id, associated stream id (none), priority 0 and slot 0.
        let payload = SPDYHeaderBlock.bigEndian(stream & 0x7fff_ffff) + [0, 0, 0, 0, 0, 0] + block
        return control(type: 1, flags: fin ? flagFin : 0, payload)
    }

    static func data(_ stream: UInt32, _ payload: [UInt8], fin: Bool = false) -> [UInt8] {
        SPDYHeaderBlock.bigEndian(stream & 0x7fff_ffff) + [fin ? flagFin : 0] + length(payload.count) + payload
    }

    static func ping(_ id: UInt32) -> [UInt8] { control(type: 6, flags: 0, SPDYHeaderBlock.bigEndian(id)) }

    private static func control(type: UInt16, flags: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x80 | UInt8(version >> 8), UInt8(version & 0xff), UInt8(type >> 8), UInt8(type & 0xff), flags] + length(payload.count) + payload
    }

    private static func length(_ count: Int) -> [UInt8] {
        [UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)]
    }
}

/// Reads SPDY frames from a connection (after bytes already read with its HTTP answer),
/// decompressing header blocks in order with the connection's one inflate stream.
struct SPDYFrameReader {
    private var input: InboundBuffer
    private let decompressor: SPDYHeaderDecompressor

    init(_ stream: ByteStream, leftover: [UInt8]) throws {
        input = InboundBuffer(stream, leftover: leftover)
        decompressor = try SPDYHeaderDecompressor()
    }

    /// The next frame; nil when the connection ends between frames.
    mutating func next() async throws -> SPDYFrame? {
        guard try await input.need(8) else { return nil }
        let length = Int(input[5]) << 16 | Int(input[6]) << 8 | Int(input[7])
        guard length <= SPDYFrame.payloadLimit else { throw SPDYError.malformed("a frame of \(length) bytes") }
        guard try await input.need(8 + length) else { throw SPDYError.malformed("the connection ended inside a frame") }
        let head = input.take(8)
        let payload = input.take(length)
        let flags = head[4]
        let fin = flags & SPDYFrame.flagFin != 0
        guard head[0] & 0x80 != 0 else {
            let stream = (UInt32(head[0]) << 24 | UInt32(head[1]) << 16 | UInt32(head[2]) << 8 | UInt32(head[3])) & 0x7fff_ffff
            return .data(stream: stream, payload: payload, fin: fin)
        }
        let version = UInt16(head[0] & 0x7f) << 8 | UInt16(head[1])
        guard version == SPDYFrame.version else { throw SPDYError.malformed("version \(version)") }
        let type = UInt16(head[2]) << 8 | UInt16(head[3])
        var reader = SPDYReader(payload)
        switch type {
        case 1:
            let stream = try reader.uint32() & 0x7fff_ffff
            _ = try reader.bytes(6)
            return .synStream(stream: stream, headers: try headerBlock(reader.rest()), fin: fin)
        case 2:
            let stream = try reader.uint32() & 0x7fff_ffff
            return .synReply(stream: stream, headers: try headerBlock(reader.rest()), fin: fin)
        case 3:
            return .rstStream(stream: try reader.uint32() & 0x7fff_ffff, status: try reader.uint32())
        case 6:
            return .ping(id: try reader.uint32())
        case 7:
            return .goAway(lastGoodStream: try reader.uint32() & 0x7fff_ffff, status: try reader.uint32())
        case 8:
            let stream = try reader.uint32() & 0x7fff_ffff
            return .headers(stream: stream, headers: try headerBlock(reader.rest()), fin: fin)
        default:
            return .other(type: type)
        }
    }

    private func headerBlock(_ compressed: [UInt8]) throws -> [(name: String, value: String)] {
        try SPDYHeaderBlock.decode(try decompressor.decompress(compressed))
    }
}
