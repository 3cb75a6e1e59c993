import NIOCore

/// The bounds the listener holds every client to, whatever it sends: how long a connection
/// may sit idle or take over a request's header and body, how many connections may be open,
/// and how large a request's header section may be. The defaults are kube-apiserver's
/// (Go's `http.Server` as kube-apiserver configures it) where it has one.
public struct HTTPLimits: Sendable {
    /// A connection with no request in progress (HTTP/1.1 keep-alive, HTTP/2 with no open
    /// stream) is closed after this long; kube-apiserver's `IdleTimeout` is 90 s.
    public var idleTimeout: TimeAmount = .seconds(90)
    /// A request's header section (and, on a new connection, the TLS handshake before it)
    /// must arrive within this long of its first byte; kube-apiserver's `ReadHeaderTimeout` is 32 s.
    public var readHeaderTimeout: TimeAmount = .seconds(32)
    /// A request's body must arrive within this long of its header (the default request
    /// timeout of kube-apiserver, one minute).
    public var requestReadTimeout: TimeAmount = .seconds(60)
    /// Connections open at once; more are closed as soon as they are accepted.
    public var maxConnections = 10_000
    /// Header fields in one request (HTTP/1.1 and HTTP/2); more get 431.
    public var maxHeaderFields = 500
    /// Bytes in one request's header section, counted as HPACK counts them (name, value and
    /// 32 per field); more get 431. HTTP/1.1 is also cut off by the parser at 80 KiB.
    public var maxHeaderBytes = 64 * 1024

    public init() {}
}
