import NIOHTTP1

/// One HTTP request as the API server sees it, whichever HTTP version carried it.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The path, percent-decoded, without the query.
    public var path: String
    /// The query parameters, percent-decoded; a name may repeat.
    public var query: [String: [String]]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The DER bytes of the client certificate the TLS layer verified against the cluster CA.
    public var clientCertificate: [UInt8]?
    /// The remote address, for logs.
    public var remoteAddress: String
    /// The request target as sent: path and query (the audit log's `requestURI`).
    public var uri: String

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8] = [],
                clientCertificate: [UInt8]? = nil, remoteAddress: String = "") {
        self.method = method
        self.headers = headers
        self.body = body
        self.clientCertificate = clientCertificate
        self.remoteAddress = remoteAddress
        self.uri = uri
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = Self.percentDecode(String(parts[0]), plusIsSpace: false)
        var query: [String: [String]] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") where !pair.isEmpty {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = Self.percentDecode(String(kv[0]), plusIsSpace: true)
                let value = kv.count > 1 ? Self.percentDecode(String(kv[1]), plusIsSpace: true) : ""
                query[name, default: []].append(value)
            }
        }
        self.query = query
    }

    /// The first value of a query parameter.
    public func parameter(_ name: String) -> String? { query[name]?.first }

    static func percentDecode(_ text: String, plusIsSpace: Bool) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return text
        }
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%"), bytes.count >= 2,
               let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else if plusIsSpace && byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
