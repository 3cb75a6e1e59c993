import NIOHTTP1

/// An HTTP response: a whole body, or a stream written piece by piece (watches), each piece
/// flushed to the client as it is written.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// The closure writes the body; it is cancelled when the client goes away.
        case stream(@Sendable (HTTPBodyWriter) async throws -> Void)
        /// The connection leaves HTTP: the closure gets its bytes both ways, after the request's
        /// head, and writes the response's head itself (a relayed `101 Switching Protocols` or
        /// the backend's refusal). HTTP/1.1 only; the connection closes when the closure returns.
        case upgrade(@Sendable (ByteStream) async throws -> Void)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// Annotations for the request's audit event (from admission); never sent to the client.
    public var auditAnnotations: [String: String] = [:]
    /// The name of the object a create made (its path does not say it), for the audit event's
    /// `objectRef`, as kube-apiserver's audit takes it from the object; never sent.
    public var auditObjectName: String? = nil

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body.
    public static func json(_ status: HTTPResponseStatus, _ value: JSON, contentType: String = "application/json") -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(value.serialized()))
    }

    /// A plain-text body.
    public static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .bytes(Array(text.utf8)))
    }
}

/// Writes the pieces of a streamed body; each write is flushed.
public struct HTTPBodyWriter: Sendable {
    let sink: @Sendable ([UInt8]) async throws -> Void

    public init(_ sink: @escaping @Sendable ([UInt8]) async throws -> Void) { self.sink = sink }

    public func write(_ bytes: [UInt8]) async throws { try await sink(bytes) }
}

/// Answers requests: the API server's handler chain implements this.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest) async -> HTTPResponse
}
