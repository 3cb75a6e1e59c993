import CZlib
import NIOHTTP1

/// gzip for large whole responses, as kube-apiserver's `APIResponseCompression`: when the
/// client accepts gzip and the body is at least ``threshold`` bytes, the body is compressed
/// at zlib's fastest level (kube-apiserver's level 1) and sent with `Content-Encoding: gzip`.
/// Streams (watches, logs) and answers that already carry an encoding go as they are.
public struct ResponseCompression: Sendable {
    /// kube-apiserver's threshold: smaller bodies are not worth the CPU.
    public static let defaultThreshold = 128 * 1024

    public var threshold: Int
    public var level: Int32

    public init(threshold: Int = Self.defaultThreshold, level: Int32 = 1) {
        self.threshold = threshold
        self.level = level
    }

    /// Compresses `response` if `request` accepts gzip and the body is large enough.
    public func apply(to response: inout HTTPResponse, for request: HTTPRequest) {
        guard case .bytes(let bytes) = response.body, bytes.count >= threshold,
              !response.headers.contains(name: "content-encoding"),
              Self.acceptsGzip(request.headers[canonicalForm: "accept-encoding"]),
              let compressed = Self.gzip(bytes, level: level) else { return }
        response.body = .bytes(compressed)
        response.headers.replaceOrAdd(name: "Content-Encoding", value: "gzip")
        response.headers.add(name: "Vary", value: "Accept-Encoding")
    }

    /// Whether an `Accept-Encoding` header's codings include gzip (or `*`) with a weight
    /// above zero.
    static func acceptsGzip(_ values: [Substring]) -> Bool {
        for coding in values {
            let parts = coding.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let name = parts.first, name == "gzip" || name == "*" else { continue }
            let weight = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if weight > 0 { return true }
        }
        return false
    }

    /// `bytes` as one gzip member; `nil` if zlib fails.
    static func gzip(_ bytes: [UInt8], level: Int32) -> [UInt8]? {
        guard bytes.count < Int(uInt.max / 2) else { return nil }
        var stream = z_stream()
        // 15 bits of window, +16: a gzip header and trailer instead of zlib's.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var input = bytes
        let bound = Int(deflateBound(&stream, uLong(bytes.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        let result: Int32 = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
