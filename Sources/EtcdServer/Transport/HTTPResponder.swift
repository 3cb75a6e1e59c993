/// Answers the plain HTTP/1.1 requests a gRPC listener serves beside its calls (etcd's
/// `/metrics`, `/health` and `/version`). A strategy of ``GRPCFrameTransport``: without
/// one, an HTTP/1.1 connection is answered 505 and closed.
public protocol HTTPResponder: Sendable {
    /// The answer to a request; the body of the request is not read.
    func respond(method: String, path: String) async -> HTTPAnswer
}

/// A complete plain HTTP answer.
public struct HTTPAnswer: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}
