import Synchronization

/// Counts of the listener's connections: open now, accepted and refused at the cap, and
/// closed by each of the limits in ``HTTPLimits``; rendered in the Prometheus text format
/// with the rest of `/metrics`.
public final class ConnectionMetrics: Sendable {
    /// Why the server closed a connection or refused a request.
    public enum Closure: String, Sendable, CaseIterable {
        case idle
        case handshakeTimeout = "handshake_timeout"
        case headerTimeout = "header_timeout"
        case bodyTimeout = "body_timeout"
        /// An HTTP/2 connection error (malformed frames or header blocks, floods).
        case protocolError = "protocol_error"
    }

    private let open = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    private let closures = Mutex<[Closure: Int]>([:])
    private let refusals = Mutex<[Int: Int]>([:])

    public init() {}

    /// Counts a new connection in, unless `limit` are open already: then it is counted as
    /// refused and `false` is returned.
    func admit(limit: Int) -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        guard now <= limit else {
            open.subtract(1, ordering: .relaxed)
            refused.add(1, ordering: .relaxed)
            return false
        }
        accepted.add(1, ordering: .relaxed)
        return true
    }

    /// Counts an admitted connection out.
    func closed() { open.subtract(1, ordering: .relaxed) }

    func closedBy(_ reason: Closure) { closures.withLock { $0[reason, default: 0] += 1 } }

    /// Counts a request refused before it reached the API (bad framing, oversized headers or body).
    func refusedRequest(code: Int) { refusals.withLock { $0[code, default: 0] += 1 } }

    /// The exposition text.
    public func render() -> String {
        var out = "# HELP skiff_http_open_connections Client connections open now.\n# TYPE skiff_http_open_connections gauge\n"
        out += "skiff_http_open_connections \(open.load(ordering: .relaxed))\n"
        out += "# HELP skiff_http_connections_total Client connections accepted, and refused because the connection limit was reached.\n"
        out += "# TYPE skiff_http_connections_total counter\n"
        out += "skiff_http_connections_total{result=\"accepted\"} \(accepted.load(ordering: .relaxed))\n"
        out += "skiff_http_connections_total{result=\"refused\"} \(refused.load(ordering: .relaxed))\n"
        out += "# HELP skiff_http_connections_closed_total Connections (for body_timeout, also HTTP/2 streams) the server closed, by the limit that closed them.\n"
        out += "# TYPE skiff_http_connections_closed_total counter\n"
        let closed = closures.withLock { $0 }
        for reason in Closure.allCases {
            out += "skiff_http_connections_closed_total{reason=\"\(reason.rawValue)\"} \(closed[reason] ?? 0)\n"
        }
        out += "# HELP skiff_http_requests_refused_total Requests refused by the listener before routing (framing, header or body size), by HTTP code.\n"
        out += "# TYPE skiff_http_requests_refused_total counter\n"
        let refused = refusals.withLock { $0 }
        for code in refused.keys.sorted() {
            out += "skiff_http_requests_refused_total{code=\"\(code)\"} \(refused[code] ?? 0)\n"
        }
        return out
    }
}
