import NIOHTTP1

/// The listener's checks on a request's header section before it is routed: the header
/// limits of ``HTTPLimits``, and HTTP/1.1 message framing as RFC 9112 (section 6) requires
/// it, so that no two parties can disagree on where a request's body ends.
enum RequestFraming {
    /// A refusal: the Status to answer, and whether the connection must close after it
    /// (the body's end is unknown, so nothing after it can be read as a request).
    struct Refusal {
        var error: StatusError
        var mustClose: Bool
    }

    static func refusal(for head: HTTPRequestHead, limits: HTTPLimits) -> Refusal? {
        if head.headers.count > limits.maxHeaderFields {
            return Refusal(error: headerFieldsTooLarge("more than \(limits.maxHeaderFields) header fields"), mustClose: false)
        }
        var bytes = 0
        for (name, value) in head.headers {
            bytes += name.utf8.count + value.utf8.count + 32
        }
        if bytes > limits.maxHeaderBytes {
            return Refusal(error: headerFieldsTooLarge("header fields larger than \(limits.maxHeaderBytes) bytes"), mustClose: false)
        }
        guard head.version.major == 1 else { return nil }
        if head.method == .CONNECT {
            // HTTP/1.1's parser takes everything after a CONNECT head as a tunnel, never ending
            // the request: answered at once, and the connection closed.
            return Refusal(error: .methodNotAllowed("CONNECT is not supported"), mustClose: true)
        }
        return framingRefusal(head)
    }

    /// RFC 9112 section 6: Transfer-Encoding only from HTTP/1.1, never beside Content-Length,
    /// chunked last; a coding other than chunked is not implemented (501). Content-Length
    /// must be one decimal number, however many times it is repeated.
    private static func framingRefusal(_ head: HTTPRequestHead) -> Refusal? {
        let lengths = head.headers[canonicalForm: "content-length"]
        let codings = head.headers[canonicalForm: "transfer-encoding"].map { $0.lowercased() }
        if let first = lengths.first {
            guard !first.isEmpty, first.utf8.count <= 19, first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  lengths.allSatisfy({ $0 == first }) else {
                return Refusal(error: .badRequest("invalid Content-Length header"), mustClose: true)
            }
        }
        guard !codings.isEmpty else { return nil }
        if head.version.minor == 0 {
            return Refusal(error: .badRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request"), mustClose: true)
        }
        if !lengths.isEmpty {
            return Refusal(error: .badRequest("a request may not carry both Transfer-Encoding and Content-Length"), mustClose: true)
        }
        guard codings.last == "chunked" else {
            return Refusal(error: .badRequest("the final transfer coding of a request must be chunked"), mustClose: true)
        }
        if codings.count > 1 {
            let unsupported = codings.dropLast().joined(separator: ", ")
            return Refusal(error: StatusError(code: 501, reason: "NotImplemented",
                                              message: "unsupported transfer encoding: \(unsupported)"),
                           mustClose: true)
        }
        return nil
    }

    /// The answer to a request the HTTP/1.1 parser could not read.
    static func refusal(for error: HTTPParserError) -> StatusError {
        if case .headerOverflow = error {
            return headerFieldsTooLarge("a header section larger than the parser's 80 KiB")
        }
        return .badRequest("malformed HTTP/1.1 request: \(error)")
    }

    private static func headerFieldsTooLarge(_ what: String) -> StatusError {
        StatusError(code: 431, reason: "RequestHeaderFieldsTooLarge", message: "request has \(what)")
    }
}
