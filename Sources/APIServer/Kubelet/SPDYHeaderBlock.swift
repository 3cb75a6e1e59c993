import CZlib

/// SPDY/3 name/value header blocks (draft-mbelshe-httpbis-spdy-00, section 2.6.10): a count
/// and length-prefixed names and values, zlib-compressed with the protocol's dictionary in
/// one stream per direction of a connection.
enum SPDYHeaderBlock {
    /// The largest header block accepted once decompressed.
    static let limit = 256 * 1024

    /// The block's uncompressed bytes; names are lower-cased, as SPDY requires.
    static func encode(_ headers: [(name: String, value: String)]) -> [UInt8] {
        var out = bigEndian(UInt32(headers.count))
        for (name, value) in headers {
            let n = Array(name.lowercased().utf8), v = Array(value.utf8)
            out += bigEndian(UInt32(n.count)) + n + bigEndian(UInt32(v.count)) + v
        }
        return out
    }

    /// The pairs of an uncompressed block (a value holding several, NUL-separated, is one pair).
    static func decode(_ bytes: [UInt8]) throws -> [(name: String, value: String)] {
        var reader = SPDYReader(bytes)
        let count = try reader.uint32()
        guard count <= 1024 else { throw SPDYError.malformed("\(count) header pairs") }
        var out: [(name: String, value: String)] = []
        for _ in 0..<count {
            let name = try reader.bytes(Int(try reader.uint32()))
            let value = try reader.bytes(Int(try reader.uint32()))
            out.append((String(decoding: name, as: UTF8.self).lowercased(), String(decoding: value, as: UTF8.self)))
        }
        return out
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    /// The SPDY/3 compression dictionary (section 2.6.10.1): the header names, each with its
    /// 4-byte length, then the status codes, reasons, dates and media types.
    static let dictionary: [UInt8] = {
        let names = ["options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
                     "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
                     "content-base", "content-encoding", "content-language", "content-length", "content-location",
                     "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
                     "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
                     "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
                     "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
                     "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
                     "public", "set-cookie", "keep-alive", "origin"]
        var out: [UInt8] = []
        for name in names { out += bigEndian(UInt32(name.utf8.count)) + Array(name.utf8) }
        let tail = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
            + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
            + "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
            + "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
            + "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
            + "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
        return out + Array(tail.utf8)
    }()
}

/// One direction's header compression: a zlib deflate stream primed with the dictionary,
/// flushed (sync) after each block.
final class SPDYHeaderCompressor {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init() throws {
        stream.initialize(to: z_stream())
        guard deflateInit_(stream, Z_DEFAULT_COMPRESSION, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw SPDYError.compression("deflateInit failed")
        }
        let status = SPDYHeaderBlock.dictionary.withUnsafeBufferPointer {
            deflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
        }
        guard status == Z_OK else { throw SPDYError.compression("deflateSetDictionary failed") }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func compress(_ block: [UInt8]) throws -> [UInt8] {
        var input = block
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        try input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = uInt(inBuffer.count)
            repeat {
                let produced = try chunk.withUnsafeMutableBufferPointer { outBuffer -> Int in
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = uInt(outBuffer.count)
                    let status = deflate(stream, Z_SYNC_FLUSH)
                    guard status == Z_OK || status == Z_BUF_ERROR else { throw SPDYError.compression("deflate: \(status)") }
                    return outBuffer.count - Int(stream.pointee.avail_out)
                }
                out += chunk[0..<produced]
            } while stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
        return out
    }
}

/// The other direction: a zlib inflate stream given the dictionary when it asks for it; a
/// block that inflates past ``SPDYHeaderBlock/limit`` is refused.
final class SPDYHeaderDecompressor {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)

    init() throws {
        stream.initialize(to: z_stream())
        guard inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw SPDYError.compression("inflateInit failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func decompress(_ compressed: [UInt8]) throws -> [UInt8] {
        var input = compressed
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        try input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = uInt(inBuffer.count)
            defer { stream.pointee.next_in = nil }
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { outBuffer -> (Int32, Int) in
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = uInt(outBuffer.count)
                    let status = inflate(stream, Z_SYNC_FLUSH)
                    return (status, outBuffer.count - Int(stream.pointee.avail_out))
                }
                out += chunk[0..<produced]
                guard out.count <= SPDYHeaderBlock.limit else { throw SPDYError.malformed("a header block larger than \(SPDYHeaderBlock.limit) bytes") }
                switch status {
                case Z_NEED_DICT:
                    let set = SPDYHeaderBlock.dictionary.withUnsafeBufferPointer {
                        inflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
                    }
                    guard set == Z_OK else { throw SPDYError.compression("inflateSetDictionary: \(set)") }
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
                case Z_BUF_ERROR:
                    // Nothing more can be done with the input given: the block is complete.
                    return
                default:
                    throw SPDYError.compression("inflate: \(status)")
                }
            }
        }
        return out
    }
}

/// Reads big-endian fields from a frame's bytes.
struct SPDYReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func uint32() throws -> UInt32 {
        let field = try self.bytes(4)
        return UInt32(field[0]) << 24 | UInt32(field[1]) << 16 | UInt32(field[2]) << 8 | UInt32(field[3])
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else { throw SPDYError.malformed("a field runs past its frame") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }
}

enum SPDYError: Error, CustomStringConvertible {
    case malformed(String)
    case compression(String)
    case refused(String)

    var description: String {
        switch self {
        case .malformed(let what): "malformed SPDY: \(what)"
        case .compression(let what): "SPDY header compression: \(what)"
        case .refused(let what): what
        }
    }
}
