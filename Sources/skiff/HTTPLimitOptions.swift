import APIServer
import ArgumentParser
import NIOCore

/// The listener's limits as `skiff server` flags (defaults: kube-apiserver's).
struct HTTPLimitOptions: ParsableArguments {
    @Option(name: .customLong("http-idle-timeout"),
            help: "Close a client connection with no request in progress after this long (Go duration).")
    var idleTimeout = DurationArgument(.seconds(90))

    @Option(name: .customLong("http-read-header-timeout"),
            help: "A TLS handshake, and a request's header from its first byte, must arrive within this long (Go duration).")
    var readHeaderTimeout = DurationArgument(.seconds(32))

    @Option(name: .customLong("http-request-read-timeout"),
            help: "A request's body must arrive within this long of its header (Go duration).")
    var requestReadTimeout = DurationArgument(.seconds(60))

    @Option(name: .customLong("max-connections"), help: "Client connections open at once; more are closed on accept.")
    var maxConnections = 10_000

    func validate() throws {
        for (flag, value) in [("--http-idle-timeout", idleTimeout), ("--http-read-header-timeout", readHeaderTimeout),
                              ("--http-request-read-timeout", requestReadTimeout)] where value.duration <= .zero {
            throw ValidationError("\(flag) must be positive")
        }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
    }

    var limits: HTTPLimits {
        var limits = HTTPLimits()
        limits.idleTimeout = TimeAmount(idleTimeout.duration)
        limits.readHeaderTimeout = TimeAmount(readHeaderTimeout.duration)
        limits.requestReadTimeout = TimeAmount(requestReadTimeout.duration)
        limits.maxConnections = maxConnections
        return limits
    }
}
