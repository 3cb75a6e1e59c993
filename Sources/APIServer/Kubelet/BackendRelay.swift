import NIOCore
import NIOHTTP1

/// Carries a client's request to a backend and the backend's answer back: an HTTP exchange
/// whose response is relayed (headers without the hop-by-hop ones, the body streamed as it
/// comes), or an upgrade whose bytes are spliced both ways once sent.
struct BackendRelay: Sendable {
    let dialer: BackendDialer

    /// Bodies up to this size are read whole and answered with a length; longer or unframed
    /// ones (followed logs) are streamed.
    static let wholeBodyLimit = 1 << 20
    /// How long a backend may take to begin its answer (its head); the connection is closed
    /// after that. A bounded body is read within it too; a streamed one is not timed.
    static let answerTimeout = TimeAmount.seconds(60)

    /// Headers that belong to one connection and are never relayed (RFC 9110 section 7.6.1),
    /// and the client's credentials, which are for Skiff and not for the backend.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                                         "trailer", "transfer-encoding", "upgrade", "content-length", "host"]
    static let credentials: Set<String> = ["authorization", "cookie"]

    /// Sends `request` and relays the response: on a new connection, or with `pool`, on a
    /// connection kept under `key` when there is one. A request that may be sent twice
    /// (GET, HEAD, OPTIONS, PUT, DELETE) whose kept connection the backend had closed (no
    /// answer came) goes again on a new one; others always take a new one. A connection
    /// whose answer ends cleanly and that the backend keeps open goes back to `pool`.
    func exchange(_ request: BackendRequest, host: String, port: Int, transport: BackendDialer.Transport,
                  pool: IdleConnections? = nil, key: String = "") async throws -> HTTPResponse {
        if let pool, Self.replayable.contains(request.method) {
            while let idle = pool.take(key) {
                do {
                    return try await send(request, on: idle, pool: pool, key: key)
                } catch is Unanswered {
                    continue
                }
            }
        }
        let connection = try await dialer.dial(host: host, port: port, transport: transport)
        do {
            return try await send(request, on: IdleConnections.Idle(stream: connection, reader: BackendResponse(connection)),
                                  pool: pool, key: key)
        } catch let unanswered as Unanswered {
            throw unanswered.error
        }
    }

    /// Methods a client may see sent twice (RFC 9110's idempotent methods).
    static let replayable: Set<String> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]

    /// The request failed before any of the answer came (the connection is closed).
    private struct Unanswered: Error {
        let error: any Error
    }

    private func send(_ request: BackendRequest, on connection: IdleConnections.Idle, pool: IdleConnections?,
                      key: String) async throws -> HTTPResponse {
        let stream = connection.stream, response = connection.reader
        let head: BackendResponseHead
        let deadline = stream.closeAfter(Self.answerTimeout)
        defer { deadline.cancel() }
        do {
            try await stream.write(request.serialized())
            head = try await response.readHead(bodyless: request.method == "HEAD")
        } catch {
            stream.close()
            throw Unanswered(error: error)
        }
        let keepable = head.raw.starts(with: Array("HTTP/1.1".utf8)) && head.header("connection")?.lowercased() != "close"
        /// The answer has been read: the connection goes back to the pool if it can carry another.
        @Sendable func finished() async {
            if keepable, let pool, await response.endedCleanly, pool.put(key, connection) { return }
            stream.close()
        }
        var headers = HTTPHeaders()
        for (name, value) in head.headers where !Self.hopByHop.contains(name.lowercased()) {
            headers.add(name: name, value: value)
        }
        let status = HTTPResponseStatus(statusCode: head.status)
        if let length = head.header("content-length").flatMap(Int.init), length <= Self.wholeBodyLimit || head.status == 204 || head.status == 304 {
            let body: [UInt8]
            do {
                body = try await response.body(limit: Self.wholeBodyLimit)
            } catch {
                stream.close()
                throw error
            }
            await finished()
            return HTTPResponse(status: status, headers: headers, body: .bytes(body))
        }
        if request.method == "HEAD" || head.status == 204 || head.status == 304 {
            await finished()
            return HTTPResponse(status: status, headers: headers)
        }
        return HTTPResponse(status: status, headers: headers, body: .stream { writer in
            do {
                while let piece = try await response.nextBodyChunk() {
                    try await writer.write(piece)
                }
            } catch {
                stream.close()
                throw error
            }
            await finished()
        })
    }

    /// The response of a backend that answered other than 2xx, as a `Status` error carrying
    /// its code and (the start of) its body: kube-apiserver's relay of a kubelet's refusal.
    static func refusal(_ response: HTTPResponse) -> StatusError {
        var text = ""
        switch response.body {
        case .bytes(let bytes): text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        case .stream, .upgrade: break
        }
        let code = Int(response.status.code)
        let message = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return StatusError(code: code, reason: reason(forCode: code),
                           message: message.isEmpty ? "the kubelet answered \(code)" : message)
    }

    /// The `Status` reason of an HTTP code, as kube-apiserver names them.
    static func reason(forCode code: Int) -> String {
        switch code {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 409: "Conflict"
        case 429: "TooManyRequests"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: ""
        }
    }

    /// Dials the backend and sends the upgrade request now (so that a backend out of reach is
    /// a `Status`), then answers with an upgrade that splices the client's connection to it:
    /// the backend's own answer (its `101`, or its refusal) reaches the client unchanged.
    func upgrade(_ request: BackendRequest, host: String, port: Int, transport: BackendDialer.Transport) async throws -> HTTPResponse {
        let backend: ByteStream
        do {
            backend = try await dialer.dial(host: host, port: port, transport: transport)
        } catch {
            throw StatusError.internalError("error dialing backend: \(error)")
        }
        do {
            try await backend.write(request.serialized())
        } catch {
            backend.close()
            throw StatusError.internalError("error sending the request to the backend: \(error)")
        }
        return HTTPResponse(status: .switchingProtocols, body: .upgrade { client in
            await Self.splice(client, backend)
        })
    }

    /// Copies bytes both ways until either side closes, then closes both.
    static func splice(_ a: ByteStream, _ b: ByteStream) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await copy(from: a, to: b) }
            group.addTask { await copy(from: b, to: a) }
            await group.next()
            a.close()
            b.close()
            group.cancelAll()
        }
    }

    private static func copy(from source: ByteStream, to sink: ByteStream) async {
        do {
            for try await chunk in source.inbound {
                try await sink.write(chunk)
            }
        } catch {}
    }

    /// The request headers relayed to a backend: the client's, without hop-by-hop fields and
    /// credentials (and the upgrade fields, added back for upgrades), without line breaks.
    static func forwardedHeaders(_ headers: HTTPHeaders, upgrade: Bool) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            if credentials.contains(lower) || lower.hasPrefix("impersonate-") || !BackendRequest.safe(value) { continue }
            if hopByHop.contains(lower) {
                if upgrade && (lower == "upgrade" || lower == "connection") { out.append((name, value)) }
                continue
            }
            out.append((name, value))
        }
        return out
    }

    /// A query string from parameters, escaped as Go's `url.Values.Encode` escapes them.
    static func query(_ parameters: [(String, String)]) -> String {
        parameters.map { escape($0.0, component: .query) + "=" + escape($0.1, component: .query) }.joined(separator: "&")
    }

    enum Component { case query, path }

    /// Percent-encodes all but the unreserved characters (and `/` in a path).
    static func escape(_ text: String, component: Component) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where component == .path:
                out += "/"
            case UInt8(ascii: " ") where component == .query:
                out += "+"
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
