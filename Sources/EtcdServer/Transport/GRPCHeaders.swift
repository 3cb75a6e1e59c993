import Foundation
import GRPCCore
import NIOHPACK

/// The HTTP/2 header blocks of gRPC over HTTP/2: what a request's headers say, and the
/// response headers and trailers the server sends.
enum GRPCHeaders {
    /// The request headers that are the transport's, not the application's metadata.
    private static let reserved: Set<String> = ["content-type", "te", "user-agent", "grpc-encoding",
                                                "grpc-accept-encoding", "host", "connection"]

    /// The application's metadata in a request's headers (`-bin` values base64-decoded;
    /// `grpc-timeout` kept, the server core reads it from there).
    static func metadata(of headers: HPACKHeaders) -> Metadata {
        var metadata = Metadata()
        for (name, value, _) in headers where !name.hasPrefix(":") && !reserved.contains(name) {
            if name.hasSuffix("-bin") {
                if let bytes = Data(base64Encoded: padded(value)) { metadata.addBinary(Array(bytes), forKey: name) }
            } else {
                metadata.addString(value, forKey: name)
            }
        }
        return metadata
    }

    /// gRPC allows unpadded base64 in binary headers.
    private static func padded(_ value: String) -> String {
        let rest = value.utf8.count % 4
        return rest == 0 ? value : value + String(repeating: "=", count: 4 - rest)
    }

    /// The leading headers of every successful gRPC response.
    static let ok: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]

    /// The response's leading headers.
    static func response(_ metadata: Metadata = Metadata()) -> HPACKHeaders {
        var headers = ok
        add(metadata, to: &headers)
        return headers
    }

    /// The trailers that end a call; with `trailersOnly`, also the leading headers (a call
    /// that ends before any response).
    static func trailers(_ status: Status, _ metadata: Metadata = Metadata(), trailersOnly: Bool) -> HPACKHeaders {
        var headers: HPACKHeaders = trailersOnly ? ok : [:]
        headers.add(name: "grpc-status", value: String(status.code.rawValue))
        if !status.message.isEmpty { headers.add(name: "grpc-message", value: percentEncoded(status.message)) }
        add(metadata, to: &headers)
        return headers
    }

    /// The trailers that end a call with `error` (see ``trailers(_:_:trailersOnly:)``).
    static func trailers(_ error: RPCError, trailersOnly: Bool) -> HPACKHeaders {
        trailers(Status(error), error.metadata, trailersOnly: trailersOnly)
    }

    private static func add(_ metadata: Metadata, to headers: inout HPACKHeaders) {
        for (key, value) in metadata {
            switch value {
            case .string(let s): headers.add(name: key, value: s)
            case .binary(let b): headers.add(name: key, value: Data(b).base64EncodedString())
            }
        }
    }

    /// `grpc-message` is percent-encoded UTF-8: bytes outside printable ASCII, and `%`.
    static func percentEncoded(_ message: String) -> String {
        var out = ""
        out.reserveCapacity(message.utf8.count)
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension Status {
    /// The status a call ends with when it fails with `error`.
    init(_ error: RPCError) {
        self.init(code: Status.Code(error.code), message: error.message)
    }
}
