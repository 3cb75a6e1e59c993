import Foundation

/// A plain HTTP answer as curl saw it.
public struct HTTPReply: Sendable {
    public var status: Int
    public var body: String
    public var httpVersion: String

    /// The value of an unlabelled Prometheus sample `name` in a `/metrics` body.
    public func sample(_ name: String) -> Double? {
        body.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.dropFirst(name.count + 1)) }
    }
}

/// One request with the real curl; `http2` sends it over HTTP/2 without TLS (prior knowledge).
public func curl(_ url: String, method: String = "GET", http2: Bool = false) throws -> HTTPReply {
    let out = try run(try which("curl"), ["-s", "-X", method, http2 ? "--http2-prior-knowledge" : "--http1.1",
                                          "-w", "\n%{http_code} %{http_version}", url], timeout: 30)
    let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let last = (lines.last ?? "").split(separator: " ")
    return HTTPReply(status: last.first.flatMap { Int($0) } ?? 0, body: lines.dropLast().joined(separator: "\n"),
                     httpVersion: last.count > 1 ? String(last[1]) : "")
}
