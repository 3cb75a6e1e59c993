import Foundation

/// How the etcd endpoint listens and introduces itself.
public struct EtcdConfiguration: Sendable {
    /// Client TLS files, as etcd's `--cert-file`, `--key-file`, `--trusted-ca-file`.
    public struct TLSFiles: Sendable, Hashable {
        public var certificateFile: String
        public var keyFile: String
        /// When set, clients must present a certificate signed by this CA.
        public var trustedCAFile: String?

        public init(certificateFile: String, keyFile: String, trustedCAFile: String?) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.trustedCAFile = trustedCAFile
        }
    }

    /// The IPv4 or IPv6 literal to listen on.
    public var host: String
    /// The port; 0 picks a free one.
    public var port: Int
    public var tls: TLSFiles?
    /// The member's name, as `etcdctl member list` shows it.
    public var name: String = "skiff"
    /// How often a watch created with `progress_notify` gets a progress notification when idle.
    public var progressNotifyInterval: Duration = .seconds(600)
    /// The largest request accepted, as etcd's `--max-request-bytes` (1.5 MiB by default).
    public var maxRequestBytes: Int = 1_572_864
    /// The most operations in one transaction, as etcd's `--max-txn-ops`.
    public var maxTxnOps: Int = 128

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`): only this
    /// machine's processes can connect.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    public init(host: String, port: Int, tls: TLSFiles? = nil) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// Parses an etcd client URL such as `http://127.0.0.1:2379` or `https://0.0.0.0:2379`.
    /// Returns the host, the port and whether it asks for TLS.
    public static func parseClientURL(_ url: String) throws -> (host: String, port: Int, tls: Bool) {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty, let port = components.port
        else {
            throw EtcdConfigurationError("listen URL \(url) is not of the form http(s)://IP:PORT")
        }
        let literal = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return (literal == "localhost" ? "127.0.0.1" : literal, port, scheme == "https")
    }
}

/// A configuration that cannot work, with what to change.
public struct EtcdConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
